# confcom's rules for the Kata agent (Rego v1).
#
# The agent asks data.agent_policy.<RequestName> about every API call, with the request as input.
# Every entry point has a default; a request that no rule allows is denied. policy_data, appended
# to these rules by `confcom policy generate`, describes the one pod this policy is for: its sandbox
# and containers, with literal values pinned and runtime values as anchored RE2 patterns.
#
# State lives in data.pstate and changes only through {"allowed": true, "ops": [JSON Patch]}:
#   sandbox_id    set by CreateSandboxRequest; every container then names it
#   sandbox_name  set by the first container created; every later container must carry it
#   containers    container ID -> name in policy_data, for StartContainer and ExecProcess; an ID
#                 never changes container, RemoveContainer takes it out again
#   namespace     the pod's Kubernetes namespace, set by the first container
#   network_namespace  the containers' network namespace path ("" for none), set by the first
#   bundles       bundle ID (the name in the guest's paths) -> name; a bundle never changes container
#
# Names: i_* values come from the request, p_* values from the policy (denial explanations rely on it).
# Only builtins the agent's engine ships are used (a test scans this file).
package agent_policy

import rego.v1

default AllowRequestsFailingPolicy := false

# Calls that create or run something are denied unless a rule below allows them.
default CreateContainerRequest := {"allowed": false}

default CreateSandboxRequest := {"allowed": false}

default ExecProcessRequest := false

default CopyFileRequest := false

default SetPolicyRequest := false

default StartContainerRequest := false

default UpdateInterfaceRequest := false

default UpdateRoutesRequest := false

default UpdateEphemeralMountsRequest := false

default ReadStreamRequest := false

default WriteStreamRequest := false

default CloseStdinRequest := false

# Calls that would let the host change the guest's setup behind the policy's back.
default AddARPNeighborsRequest := false

default AddSwapRequest := false

default GetIPTablesRequest := false

default SetIPTablesRequest := false

default GetMetricsRequest := false

default ListInterfacesRequest := false

default ListRoutesRequest := false

default MemHotplugByProbeRequest := false

default PauseContainerRequest := false

default ResumeContainerRequest := false

default ReseedRandomDevRequest := false

default ResizeVolumeRequest := false

default SetGuestDateTimeRequest := false

default StartTracingRequest := false

default StopTracingRequest := false

default UpdateContainerRequest := false

default MemAgentMemcgConfig := false

default MemAgentCompactConfig := false

# Calls that only observe, wait or tear down.
default CheckRequest := true

default DestroySandboxRequest := true

default GetOOMEventRequest := true

default GuestDetailsRequest := true

default OnlineCPUMemRequest := true

default RemoveContainerRequest := true

default RemoveStaleVirtiofsShareMountsRequest := true

default SignalProcessRequest := true

default StatsContainerRequest := true

default TtyWinResizeRequest := true

default VersionCheckRequest := true

default VolumeStatsRequest := true

default WaitProcessRequest := true

######################################################################
# Sandbox

CreateSandboxRequest := {"allowed": true, "ops": sandbox_ops(input.sandbox_id)} if {
	not data.pstate.sandbox_id
	i_sandbox_id := input.sandbox_id
	allow_new_sandbox_id(i_sandbox_id)
	i_hook_path := input.guest_hook_path
	i_hook_path == ""
	i_kernel_modules := input.kernel_modules
	count(i_kernel_modules) == 0
	# The runtime never asks for a sandbox PID namespace here, even with shareProcessNamespace:
	# only application containers join one (handlePidNamespace in the runtime's kata_agent.go).
	i_pidns := input.sandbox_pidns
	i_pidns == false
	i_hostname := input.hostname
	allow_sandbox_hostname(i_hostname)
	every i_storage in input.storages {
		allow_sandbox_storage(i_storage)
	}
}

# The runtime sends the sandbox ID, which then holds for every container; genpolicy's cases leave it
# empty (nothing to pin then).
allow_new_sandbox_id(i_sandbox_id) if regex.match("^[a-z0-9]{64}$", i_sandbox_id)

allow_new_sandbox_id(i_sandbox_id) if i_sandbox_id == ""

sandbox_ops(i_sandbox_id) := [{"op": "add", "path": "/pstate/sandbox_id", "value": i_sandbox_id}] if i_sandbox_id != ""

sandbox_ops(i_sandbox_id) := [] if i_sandbox_id == ""

# Before the sandbox name is known, the hostname may be any name the pod can get; an empty one
# leaves the guest's as it is.
allow_sandbox_hostname(i_hostname) if {
	is_string(i_hostname)
	regex.match(expand_hostname(policy_data.pod.hostname_regex, policy_data.pod.name_regex), i_hostname)
}

allow_sandbox_hostname(i_hostname) if i_hostname == ""

# Field by field: current agents add `shared` (false for these), older ones do not send it.
allow_sandbox_storage(i_storage) if {
	some p_storage in policy_data.sandbox.storages
	i_storage.driver == p_storage.driver
	i_storage.driver_options == p_storage.driver_options
	i_storage.source == p_storage.source
	i_storage.fstype == p_storage.fstype
	i_storage.options == p_storage.options
	i_storage.mount_point == p_storage.mount_point
	is_null(i_storage.fs_group)
	not_shared(i_storage)
}

not_shared(i_storage) if not "shared" in object.keys(i_storage)

not_shared(i_storage) if i_storage.shared == false

expand_hostname(p_regex, p_name_regex) := p_name_regex if p_regex == "^$(sandbox-name)$"

expand_hostname(p_regex, _) := p_regex if p_regex != "^$(sandbox-name)$"

######################################################################
# Containers

CreateContainerRequest := {"allowed": true, "ops": ops} if {
	i_oci := input.OCI
	some p_container in policy_data.containers
	allow_identity(p_container, i_oci)
	i_bundle_id := bundle_id(i_oci)
	allow_bundle_id(p_container, i_bundle_id)
	allow_container_id(p_container, input.container_id)
	i_sandbox_name := sandbox_name(p_container, i_oci)
	i_namespace := sandbox_namespace(i_oci)
	ctx := {
		"container_id": input.container_id,
		"bundle_id": i_bundle_id,
		"sandbox_id": sandbox_id(p_container, i_oci, i_bundle_id),
		"sandbox_name": i_sandbox_name,
		"namespace": i_namespace,
	}
	allow_request_fields(p_container, input)
	allow_oci_fields(i_oci)
	allow_annotations(p_container, i_oci.Annotations, ctx)
	allow_process(p_container.process, i_oci.Process)
	allow_root(p_container, i_oci.Root, ctx)
	allow_hostname(p_container, i_oci.Hostname, ctx)
	allow_mounts(p_container.mounts, i_oci.Mounts, ctx)
	allow_storages(p_container.storages, input.storages, ctx)
	allow_block_mounts(i_oci.Mounts, input.storages)
	allow_linux(p_container.linux, i_oci.Linux)
	i_network_namespace := network_namespace(i_oci.Linux.Namespaces)
	allow_network_namespace(i_network_namespace)
	ops := array.concat(array.concat(create_container_ops(p_container, ctx), network_namespace_ops(i_network_namespace)), namespace_ops(i_namespace))
}

# Which policy entry the request is about: the pause container, or a container by name.
allow_identity(p_container, i_oci) if {
	p_container.type == "sandbox"
	i_type := i_oci.Annotations["io.kubernetes.cri.container-type"]
	i_type == "sandbox"
	not i_oci.Annotations["io.kubernetes.cri.container-name"]
}

allow_identity(p_container, i_oci) if {
	p_container.type == "container"
	i_type := i_oci.Annotations["io.kubernetes.cri.container-type"]
	i_type == "container"
	i_name := i_oci.Annotations["io.kubernetes.cri.container-name"]
	p_container.name == i_name
}

# The sandbox name and ID are pinned by the first container created (the runtime creates the pause
# container first) and then hold for every container of the pod.
sandbox_name(_, i_oci) := i_sandbox_name if {
	not data.pstate.sandbox_name
	i_sandbox_name := i_oci.Annotations["io.kubernetes.cri.sandbox-name"]
	is_string(i_sandbox_name)
	regex.match(policy_data.pod.name_regex, i_sandbox_name)
}

sandbox_name(_, i_oci) := i_sandbox_name if {
	i_sandbox_name := i_oci.Annotations["io.kubernetes.cri.sandbox-name"]
	i_sandbox_name == data.pstate.sandbox_name
}

# The bundle (the runtime's directory for the container, whose name is in the guest's paths) is the
# container ID for containerd; genpolicy's cases also send other IDs, or none (the agent refuses an
# empty one itself), so the paths are matched against the bundle ID.
bundle_id(i_oci) := i_bundle_id if {
	i_bundle_path := i_oci.Annotations["io.katacontainers.pkg.oci.bundle_path"]
	is_string(i_bundle_path)
	startswith(i_bundle_path, policy_data.common.bundle_prefix)
	i_bundle_id := substring(i_bundle_path, count(policy_data.common.bundle_prefix), -1)
	regex.match(container_id_regex, i_bundle_id)
}

allow_bundle_id(_, i_bundle_id) if not data.pstate.bundles[i_bundle_id]

allow_bundle_id(p_container, i_bundle_id) if data.pstate.bundles[i_bundle_id] == p_container.name

# An ID names one policy container: it may come again (the agent refuses a duplicate itself), but
# never as another container.
allow_container_id(p_container, i_container_id) if {
	is_string(i_container_id)
	well_formed_container_id(i_container_id)
	not data.pstate.containers[i_container_id]
}

allow_container_id(p_container, i_container_id) if {
	data.pstate.containers[i_container_id] == p_container.name
}

well_formed_container_id(i_container_id) if regex.match(container_id_regex, i_container_id)

well_formed_container_id(i_container_id) if i_container_id == ""

# The namespace the policy names (or, when the manifest names none, any namespace name), the same for
# every container of the pod: the first one pins it.
sandbox_namespace(i_oci) := i_namespace if {
	i_namespace := i_oci.Annotations["io.kubernetes.cri.sandbox-namespace"]
	is_string(i_namespace)
	regex.match(policy_data.pod.namespace_regex, i_namespace)
	allow_known_namespace(i_namespace)
}

allow_known_namespace(i_namespace) if i_namespace == data.pstate.namespace

allow_known_namespace(_) if not data.pstate.namespace

namespace_ops(_) := [] if data.pstate.namespace

namespace_ops(i_namespace) := [{"op": "add", "path": "/pstate/namespace", "value": i_namespace}] if not data.pstate.namespace

# Pinned by CreateSandbox (genpolicy's cases, which send none, give each container its own). Paths
# below the sandbox's directory (emptyDirs) must not land in an application container's bundle.
sandbox_id(p_container, i_oci, i_bundle_id) := i_sandbox_id if {
	i_sandbox_id := i_oci.Annotations["io.kubernetes.cri.sandbox-id"]
	is_string(i_sandbox_id)
	regex.match("^[a-z0-9]{64}$", i_sandbox_id)
	allow_known_sandbox_id(i_sandbox_id)
	not app_bundle(i_sandbox_id)
	allow_sandbox_id(p_container, i_sandbox_id, i_bundle_id)
}

allow_known_sandbox_id(i_sandbox_id) if i_sandbox_id == data.pstate.sandbox_id

allow_known_sandbox_id(_) if not data.pstate.sandbox_id

app_bundle(i_id) if {
	i_name := data.pstate.bundles[i_id]
	some p_container in policy_data.containers
	p_container.name == i_name
	p_container.type == "container"
}

allow_sandbox_id(p_container, _, _) if p_container.type == "sandbox"

allow_sandbox_id(p_container, i_sandbox_id, i_bundle_id) if {
	p_container.type == "container"
	i_bundle_id != i_sandbox_id
}

allow_request_fields(p_container, i_request) if {
	i_exec_id := i_request.exec_id
	allow_init_exec_id(i_exec_id, i_request.container_id)
	is_null(i_request.string_user)
	allow_devices(p_container.vfio_gpus, i_request.devices, i_request.OCI.Annotations)
	i_pidns := i_request.sandbox_pidns
	i_pidns == p_container.sandbox_pidns
	no_shared_mounts(i_request)
}

# The init process runs under the container's ID; an empty one is what the agent defaults it to.
allow_init_exec_id(i_exec_id, i_container_id) if i_exec_id == i_container_id

allow_init_exec_id(i_exec_id, _) if i_exec_id == ""

no_shared_mounts(i_request) if not i_request.shared_mounts

no_shared_mounts(i_request) if count(i_request.shared_mounts) == 0

# containerd and CRI-O send 64 hex characters; other clients (and genpolicy's own cases) short names.
# Either way one path component with no regex metacharacter, as it is substituted into patterns.
container_id_regex := "^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$"

allow_oci_fields(i_oci) if {
	i_version := i_oci.Version
	i_version == policy_data.common.oci_version
	is_null(i_oci.Hooks)
	is_null(i_oci.Solaris)
	is_null(i_oci.Windows)
}

# Runtime IDs in the policy's patterns. The IDs were checked against container_id_regex, the
# namespace against the pod's namespace pattern (a DNS label: no metacharacter).
expand(p_pattern, ctx) := replace(replace(replace(replace(p_pattern, "$(sfprefix)", sfprefix(ctx)), "$(bundle-id)", ctx.bundle_id), "$(sandbox-id)", ctx.sandbox_id), "$(sandbox-namespace)", ctx.namespace)

sfprefix(ctx) := concat("", [policy_data.common.cpath_regex, "/", ctx.bundle_id, "-[a-z0-9]{16}-"])

######################################################################
# Devices: only the container's passthrough GPUs, each with its CDI annotation. Hot-plugged, the
# devices come in the request; cold-plugged (attached at boot), only the annotations do.

vfio_device_path := "/dev/vfio/devices/vfio"

allow_devices(p_gpus, i_devices, i_annotations) if {
	count(i_devices) == 0
	count(cdi_numbers(i_annotations)) == p_gpus
}

allow_devices(p_gpus, i_devices, i_annotations) if {
	count(i_devices) == p_gpus
	every i_device in i_devices {
		allow_vfio_device(i_device)
	}
	i_numbers := {substring(d.container_path, count(vfio_device_path), -1) | some d in i_devices}
	count(i_numbers) == p_gpus
	i_numbers == cdi_numbers(i_annotations)
}

cdi_numbers(i_annotations) := {substring(k, count("cdi.k8s.io/vfio"), -1) | some k, _ in i_annotations; regex.match(`^cdi\.k8s\.io/vfio[0-9]+$`, k)}

allow_vfio_device(i_device) if {
	i_path := i_device.container_path
	is_string(i_path)
	startswith(i_path, vfio_device_path)
	i_number := substring(i_path, count(vfio_device_path), -1)
	regex.match("^[0-9]+$", i_number)
	i_device.id == concat("", ["vfio", i_number])
	i_device.type_ == "vfio-pci-gk"
	i_device.vm_path == ""
	count(i_device.options) > 0
	every i_option in i_device.options {
		is_string(i_option)
		regex.match(`^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[01][0-9a-fA-F]\.[0-7]=[0-9a-fA-F]{2}/[0-9a-fA-F]{2}$`, i_option)
	}
}

######################################################################
# Annotations: every one the request carries must be known, every one the policy requires present.

allow_annotations(p_container, i_annotations, ctx) if {
	every i_key, i_value in i_annotations {
		allow_annotation(p_container, i_key, i_value, ctx)
	}
	every p_key, _ in p_container.annotations {
		annotation_present(p_key, i_annotations)
	}
}

annotation_present(p_key, i_annotations) if i_annotations[p_key]

# Only informative: the image is the storage's source (guest pull) or its pinned layers, which
# are checked on their own. genpolicy's cases leave it out; when it is sent it must match.
annotation_present(p_key, _) if p_key == "io.kubernetes.cri.image-name"

allow_annotation(p_container, i_key, i_value, ctx) if {
	p_regex := p_container.annotations[i_key]
	regex.match(expand(p_regex, ctx), i_value)
}

allow_annotation(p_container, i_key, i_value, _) if {
	not p_container.annotations[i_key]
	p_regex := policy_data.common.optional_annotations[p_container.type][i_key]
	regex.match(p_regex, i_value)
}

# A GPU's CDI annotation (cdi.k8s.io/vfio<N>: nvidia.com/gpu=<M>), for a container with GPUs.
allow_annotation(p_container, i_key, i_value, _) if {
	p_container.vfio_gpus > 0
	regex.match(`^cdi\.k8s\.io/vfio[0-9]+$`, i_key)
	regex.match(`^nvidia\.com/gpu=[0-9]+$`, i_value)
}

# The pod's own io.katacontainers.* annotations, which containerd may forward to every container.
allow_annotation(p_container, i_key, i_value, _) if {
	not p_container.annotations[i_key]
	not policy_data.common.optional_annotations[p_container.type][i_key]
	p_regex := p_container.forwarded_annotations[i_key]
	regex.match(p_regex, i_value)
}

######################################################################
# Process

allow_process(p_process, i_process) if {
	i_terminal := i_process.Terminal
	i_terminal == p_process.Terminal
	i_cwd := i_process.Cwd
	i_cwd == p_process.Cwd
	i_no_new_privileges := i_process.NoNewPrivileges
	i_no_new_privileges == p_process.NoNewPrivileges
	i_rlimits := i_process.Rlimits
	count(i_rlimits) == 0
	allow_user(p_process.User, i_process.User)
	allow_args(p_process, i_process.Args)
	allow_env(p_process, i_process.Env)
	allow_caps(p_process.Capabilities, i_process.Capabilities)
}

allow_user(p_user, i_user) if {
	i_uid := i_user.UID
	i_uid == p_user.UID
	i_gid := i_user.GID
	i_gid == p_user.GID
	i_gids := {g | some g in i_user.AdditionalGids}
	i_gids == {g | some g in p_user.AdditionalGids}
	i_username := i_user.Username
	i_username == p_user.Username
}

allow_args(p_process, i_args) if {
	count(i_args) == count(p_process.Args)
	every i, i_arg in i_args {
		allow_arg(p_process, i, i_arg)
	}
}

# An argument that expands a runtime value ($(POD_IP), a Secret) is matched by pattern.
allow_arg(p_process, i, i_arg) if {
	p_regex := p_process.ArgsRegex[i]
	p_regex != ""
	regex.match(p_regex, i_arg)
}

# (The literal comparison comes last, so a denial is explained by it.)
allow_arg(p_process, i, i_arg) if {
	p_arg := p_process.Args[i]
	p_arg == i_arg
}

# Every variable must be allowed. As upstream (whose cases are the runtime's contract), a variable
# may be left out: the host can only take one away, never add or change one.
allow_env(p_process, i_env) if {
	every i_var in i_env {
		allow_env_var(p_process, i_var)
	}
}

allow_env_var(p_process, i_var) if {
	some p_var in p_process.Env
	p_var == i_var
}

allow_env_var(p_process, i_var) if {
	some p_regex in p_process.EnvRegex
	regex.match(p_regex, i_var)
}

# Service links (KUBERNETES_SERVICE_HOST=...), which depend on the cluster.
allow_env_var(_, i_var) if {
	some p_regex in policy_data.common.env_allow_regex
	regex.match(p_regex, i_var)
}

allow_caps(p_caps, i_caps) if {
	allow_cap_set(p_caps.Bounding, i_caps.Bounding)
	allow_cap_set(p_caps.Effective, i_caps.Effective)
	allow_cap_set(p_caps.Permitted, i_caps.Permitted)
	allow_cap_set(p_caps.Inheritable, i_caps.Inheritable)
	allow_cap_set(p_caps.Ambient, i_caps.Ambient)
}

allow_cap_set(p_set, i_set) if {
	every i_cap in i_set {
		i_cap in p_set
	}
	every p_cap in p_set {
		p_cap in i_set
	}
}

######################################################################
# Root, hostname, Linux

allow_root(p_container, i_root, ctx) if {
	i_path := i_root.Path
	is_string(i_path)
	regex.match(expand(p_container.root.Path, ctx), i_path)
	i_readonly := i_root.Readonly
	i_readonly == p_container.root.Readonly
}

# containerd leaves an application container's hostname empty (it shares the pause container's UTS
# namespace); other clients repeat the pod's hostname, or leave the pause container's empty too
# (the guest keeps the one CreateSandbox set).
allow_hostname(_, i_hostname, _) if i_hostname == ""

allow_hostname(_, i_hostname, ctx) if {
	is_string(i_hostname)
	p_regex := replace(policy_data.pod.hostname_regex, "$(sandbox-name)", replace(ctx.sandbox_name, ".", "\\."))
	regex.match(p_regex, i_hostname)
}

allow_linux(p_linux, i_linux) if {
	i_namespaces := [n | some n in i_linux.Namespaces; n.Type != "network"]
	i_namespaces == policy_data.common.namespaces
	allow_sysctls(p_linux.Sysctl, i_linux.Sysctl)
	is_null(i_linux.Seccomp)
	is_null(i_linux.IntelRdt)
	i_uid_mappings := i_linux.UIDMappings
	count(i_uid_mappings) == 0
	i_gid_mappings := i_linux.GIDMappings
	count(i_gid_mappings) == 0
	i_devices := i_linux.Devices
	count(i_devices) == 0
	# No cgroup device rules: with CAP_MKNOD they would open the guest's block devices.
	i_device_rules := i_linux.Resources.Devices
	count(i_device_rules) == 0
	every p_path in p_linux.MaskedPaths {
		p_path in i_linux.MaskedPaths
	}
	every p_path in p_linux.ReadonlyPaths {
		readonly_or_masked(p_path, i_linux)
	}
}

# The pod's sysctls must all be there; containerd 2.x adds its defaults (unprivileged ports, ping),
# which may come or not, but only with their values.
allow_sysctls(p_sysctls, i_sysctls) if {
	is_object(i_sysctls)
	every p_key, p_value in p_sysctls {
		i_sysctls[p_key] == p_value
	}
	every i_key, i_value in i_sysctls {
		allow_sysctl(p_sysctls, i_key, i_value)
	}
}

allow_sysctl(p_sysctls, i_key, i_value) if p_sysctls[i_key] == i_value

allow_sysctl(p_sysctls, i_key, i_value) if {
	not p_sysctls[i_key]
	policy_data.common.runtime_sysctls[i_key] == i_value
}

# The network namespace (none from containerd, which leaves it to the guest; a path from other
# clients) is the same for every container of the pod: the first one pins it.
network_namespace(i_namespaces) := "" if {
	count([n | some n in i_namespaces; n.Type == "network"]) == 0
}

network_namespace(i_namespaces) := i_path if {
	i_networks := [n | some n in i_namespaces; n.Type == "network"]
	count(i_networks) == 1
	i_path := i_networks[0].Path
	is_string(i_path)
}

allow_network_namespace(_) if not is_string(data.pstate.network_namespace)

allow_network_namespace(i_path) if i_path == data.pstate.network_namespace

network_namespace_ops(_) := [] if is_string(data.pstate.network_namespace)

network_namespace_ops(i_path) := [{"op": "add", "path": "/pstate/network_namespace", "value": i_path}] if {
	not is_string(data.pstate.network_namespace)
}

readonly_or_masked(p_path, i_linux) if p_path in i_linux.ReadonlyPaths

readonly_or_masked(p_path, i_linux) if p_path in i_linux.MaskedPaths

######################################################################
# Mounts: only the policy's, one per destination. As upstream (whose cases leave some out), one may
# be missing: the container then sees its image's file there, which the policy pins as well.

allow_mounts(p_mounts, i_mounts, ctx) if {
	every i_mount in i_mounts {
		allow_mount(p_mounts, i_mount, ctx)
	}
	i_destinations := {d | some m in i_mounts; d := m.destination}
	count(i_destinations) == count(i_mounts)
}

allow_mount(p_mounts, i_mount, ctx) if {
	some p_mount in p_mounts
	p_mount.destination == i_mount.destination
	p_mount.type_ == i_mount.type_
	p_mount.options == i_mount.options
	p_mount.source != "$(block-storage)"
	regex.match(expand(p_mount.source, ctx), i_mount.source)
}

# A block emptyDir: bound to one of the request's block storages (checked in allow_block_mounts).
allow_mount(p_mounts, i_mount, _) if {
	some p_mount in p_mounts
	p_mount.destination == i_mount.destination
	p_mount.type_ == i_mount.type_
	p_mount.options == i_mount.options
	p_mount.source == "$(block-storage)"
	is_string(i_mount.source)
}

# Every mount whose source is in the block-storage directory is one of the request's block devices.
allow_block_mounts(i_mounts, i_storages) if {
	p_prefix := concat("", [block_storage_path, "/"])
	every i_mount in i_mounts {
		block_mount_bound(i_mount, i_storages, p_prefix)
	}
}

block_mount_bound(i_mount, _, p_prefix) if not startswith(i_mount.source, p_prefix)

block_mount_bound(i_mount, i_storages, p_prefix) if {
	startswith(i_mount.source, p_prefix)
	some i_storage in i_storages
	i_storage.driver == "blk"
	i_storage.mount_point == i_mount.source
}

block_storage_path := "/run/kata-containers/sandbox/storage"

# cgroup2 on newer kernels adds mount flags of its own (genpolicy's cgroup_mount_extras_allowed):
# the policy's options in order, then only those.
allow_mount(p_mounts, i_mount, ctx) if {
	some p_mount in p_mounts
	p_mount.type_ == "cgroup"
	i_mount.type_ == "cgroup"
	p_mount.destination == i_mount.destination
	i_options := i_mount.options
	count(i_options) > count(p_mount.options)
	every j, i_option in i_options {
		allow_cgroup_option(p_mount.options, j, i_option)
	}
	regex.match(expand(p_mount.source, ctx), i_mount.source)
}

allow_cgroup_option(p_options, j, i_option) if p_options[j] == i_option

allow_cgroup_option(p_options, j, i_option) if {
	j >= count(p_options)
	i_option in cgroup_mount_extras
}

cgroup_mount_extras := {"nsdelegate", "memory_recursiveprot"}

######################################################################
# Storages: image layers pinned by dm-verity root hash, the overlay over them, volumes. In order.

allow_storages(p_storages, i_storages, ctx) if {
	p_expected := expected_storages(p_storages, i_storages)
	every i, i_storage in i_storages {
		allow_storage(p_expected[i], i_storage, ctx)
	}
	count(i_storages) == count(p_expected)
}

# Upstream lets the guest-pull storage be left out (genpolicy's cases do): the container then has no
# image to run but a rootfs another container's pull left at its bundle's path, which the bundle
# state (a bundle never changes container) rules out.
expected_storages(p_storages, i_storages) := p_storages if has_guest_pull(i_storages)

expected_storages(p_storages, i_storages) := [p | some p in p_storages; p.driver != "image_guest_pull"] if {
	not has_guest_pull(i_storages)
}

has_guest_pull(i_storages) if {
	some i_storage in i_storages
	i_storage.driver == "image_guest_pull"
}

allow_storage(p_storage, i_storage, ctx) if {
	i_driver := i_storage.driver
	i_driver == p_storage.driver
	allow_driver_options(p_storage.driver_options, i_storage.driver_options)
	i_fstype := i_storage.fstype
	i_fstype == p_storage.fstype
	allow_fs_group(p_storage.fs_group, i_storage.fs_group)
	storage_shared(i_storage) == storage_shared(p_storage)
	i_source := i_storage.source
	is_string(i_source)
	regex.match(expand(p_storage.source, ctx), i_source)
	i_mount_point := i_storage.mount_point
	is_string(i_mount_point)
	allow_mount_point(p_storage.mount_point, i_mount_point, i_source, ctx)
	count(i_storage.options) == count(p_storage.options)
	every j, i_option in i_storage.options {
		i_option == p_storage.options[j]
	}
}

allow_mount_point(p_mount_point, i_mount_point, _, ctx) if {
	p_mount_point != "$(spath)/$(b64-device-id)"
	regex.match(expand(p_mount_point, ctx), i_mount_point)
}

# A block device is mounted at a name derived from its ID.
allow_mount_point(p_mount_point, i_mount_point, i_source, _) if {
	p_mount_point == "$(spath)/$(b64-device-id)"
	i_mount_point == concat("/", [block_storage_path, base64url.encode(i_source)])
}

allow_fs_group(p_fs_group, i_fs_group) if {
	is_null(p_fs_group)
	is_null(i_fs_group)
}

allow_fs_group(p_fs_group, i_fs_group) if {
	is_object(p_fs_group)
	i_group_id := i_fs_group.group_id
	i_group_id == p_fs_group.group_id
	group_change_policy(i_fs_group) == p_fs_group.group_change_policy
}

group_change_policy(i_fs_group) := i_fs_group.group_change_policy if is_number(i_fs_group.group_change_policy)

group_change_policy(i_fs_group) := 0 if not "group_change_policy" in object.keys(i_fs_group)

# Older agents do not send `shared`.
storage_shared(storage) := storage.shared if is_boolean(storage.shared)

storage_shared(storage) := false if not "shared" in object.keys(storage)

allow_driver_options(p_options, i_options) if {
	p_options != ["image_guest_pull"]
	i_options == p_options
}

# Guest pull: one option, `image_guest_pull=` and the JSON the runtime builds from the container's
# annotations (which are checked on their own); the image itself is the storage's source.
allow_driver_options(p_options, i_options) if {
	p_options == ["image_guest_pull"]
	count(i_options) == 1
	i_option := i_options[0]
	is_string(i_option)
	startswith(i_option, "image_guest_pull={\"metadata\":{")
	endswith(i_option, "}}")
}

######################################################################
# State

create_container_ops(p_container, ctx) := array.concat(array.concat(sandbox_name_ops(ctx), container_ops(p_container, ctx)), bundle_ops(p_container, ctx))

sandbox_name_ops(_) := [] if data.pstate.sandbox_name

sandbox_name_ops(ctx) := [{"op": "add", "path": "/pstate/sandbox_name", "value": ctx.sandbox_name}] if not data.pstate.sandbox_name

container_ops(p_container, ctx) := [{"op": "add", "path": "/pstate/containers", "value": {ctx.container_id: p_container.name}}] if not data.pstate.containers

container_ops(p_container, ctx) := [{"op": "add", "path": concat("/", ["", "pstate", "containers", ctx.container_id]), "value": p_container.name}] if {
	data.pstate.containers
}

bundle_ops(p_container, ctx) := [{"op": "add", "path": "/pstate/bundles", "value": {ctx.bundle_id: p_container.name}}] if not data.pstate.bundles

bundle_ops(p_container, ctx) := [{"op": "add", "path": concat("/", ["", "pstate", "bundles", ctx.bundle_id]), "value": p_container.name}] if {
	data.pstate.bundles
}

# A removed container's ID no longer runs anything (exec, start).
RemoveContainerRequest := {"allowed": true, "ops": [{"op": "remove", "path": concat("/", ["", "pstate", "containers", input.container_id])}]} if {
	data.pstate.containers[input.container_id]
}

StartContainerRequest if {
	data.pstate.containers[input.container_id]
}

######################################################################
# Exec: only the commands of the container's probes and hooks (and those the settings allow).

ExecProcessRequest if {
	i_name := data.pstate.containers[input.container_id]
	some p_container in policy_data.containers
	p_container.name == i_name
	is_null(input.string_user)
	i_process := input.process
	i_args := i_process.Args
	allow_exec_command(p_container, i_args)
	allow_exec_process(p_container.process, i_process)
	every i_var in i_process.Env {
		allow_exec_env_var(p_container.process, i_var)
	}
}

# The command runs as the container's process does: same user, directory, terminal and privileges;
# the capabilities stay unset (the agent then gives the container's own), no other labels.
allow_exec_process(p_process, i_process) if {
	i_terminal := i_process.Terminal
	i_terminal == p_process.Terminal
	i_cwd := i_process.Cwd
	i_cwd == p_process.Cwd
	i_no_new_privileges := i_process.NoNewPrivileges
	i_no_new_privileges == p_process.NoNewPrivileges
	allow_user(p_process.User, i_process.User)
	is_null(i_process.Capabilities)
	i_selinux_label := i_process.SelinuxLabel
	i_selinux_label == ""
	i_apparmor_profile := i_process.ApparmorProfile
	i_apparmor_profile == ""
}

allow_exec_env_var(p_process, i_var) if allow_env_var(p_process, i_var)

# An exec'd probe's HOSTNAME is whatever the client had; it only reaches that one process.
allow_exec_env_var(_, i_var) if regex.match(`^HOSTNAME=[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`, i_var)

allow_exec_command(p_container, i_args) if {
	some p_command in p_container.exec_commands
	p_command == i_args
}

allow_exec_command(_, i_args) if {
	some p_command in policy_data.request_defaults.ExecProcessRequest.commands
	p_command == i_args
}

######################################################################
# Files the host copies into the guest (hosts, resolv.conf, ConfigMap and Secret volumes, ...).

# Two shapes reach the policy: the agent's PolicyCopyFileRequest (path, file_type, symlink_target)
# and, from older agents, the protobuf message (path, file_mode, symlink_src).
CopyFileRequest if {
	i_path := input.path
	allow_copy_path(i_path)
	i_type := input.file_type
	is_string(i_type)
	allow_copy_file(i_type, i_path, input.symlink_target)
}

CopyFileRequest if {
	not input.file_type
	i_path := input.path
	allow_copy_path(i_path)
	i_src := input.symlink_src
	is_string(i_src)
	allow_copy_file(legacy_file_type(i_src), i_path, i_src)
}

# Absolute, below a container's shared-files prefix, no `..` component.
allow_copy_path(i_path) if {
	is_string(i_path)
	regex.match(policy_data.request_defaults.CopyFileRequest.path_regex, i_path)
	not regex.match(`(^|/)\.\.(/|$)`, i_path)
}

allow_copy_file("Regular", _, i_target) if i_target == ""

allow_copy_file("Directory", _, i_target) if i_target == ""

# A symlink only beneath a top-level shared entry (the top level is what the container mounts),
# pointing down: relative, no `..` component.
allow_copy_file("Symlink", i_path, i_target) if {
	is_string(i_target)
	i_target != ""
	not startswith(i_target, "/")
	not regex.match(`(^|/)\.\.(/|$)`, i_target)
	regex.match(concat("", [policy_data.request_defaults.CopyFileRequest.path_regex, "[^/]+/."]), i_path)
}

legacy_file_type(i_src) := "Regular" if i_src == ""

legacy_file_type(i_src) := "Symlink" if i_src != ""

######################################################################
# Network and the rest

UpdateInterfaceRequest if {
	p_defaults := policy_data.request_defaults.UpdateInterfaceRequest
	i_interface := input.interface
	i_name := i_interface.name
	is_string(i_name)
	not i_name in p_defaults.forbidden_names
	i_hw_addr := i_interface.hwAddr
	is_string(i_hw_addr)
	not i_hw_addr in p_defaults.forbidden_hw_addrs
	# Raw interface flags only from the allowed set (IFF_NOARP), so the host cannot set others.
	i_flags := i_interface.raw_flags
	is_number(i_flags)
	bits.and(i_flags, p_defaults.allow_raw_flags) == i_flags
}

UpdateRoutesRequest if {
	p_defaults := policy_data.request_defaults.UpdateRoutesRequest
	i_routes := input.routes.Routes
	is_array(i_routes)
	every i_route in i_routes {
		allow_route(p_defaults, i_route)
	}
}

allow_route(p_defaults, i_route) if {
	i_device := i_route.device
	is_string(i_device)
	not i_device in p_defaults.forbidden_devices
	i_source := i_route.source
	is_string(i_source)
	every p_regex in p_defaults.forbidden_source_regex {
		not regex.match(p_regex, i_source)
	}
}

AddARPNeighborsRequest if {
	p_defaults := policy_data.request_defaults.AddARPNeighborsRequest
	i_neighbors := input.neighbors.ARPNeighbors
	is_array(i_neighbors)
	every i_neighbor in i_neighbors {
		allow_neighbor(p_defaults, i_neighbor)
	}
}

allow_neighbor(p_defaults, i_neighbor) if {
	i_device := i_neighbor.device
	is_string(i_device)
	not i_device in p_defaults.forbidden_devices
	i_address := i_neighbor.toIPAddress.address
	is_string(i_address)
	every p_regex in p_defaults.forbidden_address_regex {
		not regex.match(p_regex, i_address)
	}
	i_state := i_neighbor.state
	i_state in p_defaults.allowed_states
	# Only NTF_PROXY and NTF_ROUTER.
	i_flags := i_neighbor.flags
	is_number(i_flags)
	bits.and(i_flags, p_defaults.allowed_flags) == i_flags
}

UpdateEphemeralMountsRequest if {
	count(input.storages) == 0
}

ReadStreamRequest if policy_data.request_defaults.ReadStreamRequest == true

WriteStreamRequest if policy_data.request_defaults.WriteStreamRequest == true

CloseStdinRequest if policy_data.request_defaults.CloseStdinRequest == true
