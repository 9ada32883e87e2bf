# The demo's policy rules (Rego v1), used by `confcom demo` until the policy generator lands.
# Containers are allowed only when their process and every image layer match policy_data exactly.
package agent_policy

import rego.v1

default AllowRequestsFailingPolicy := false

default CreateContainerRequest := false

default SetPolicyRequest := true

default StartContainerRequest := true

default ExecProcessRequest := false

CreateContainerRequest if {
	some p_container in policy_data.containers
	allow_process(p_container.process, input.OCI.Process)
	allow_layers(p_container.layers, input.storages)
}

allow_process(p_process, i_process) if {
	p_process.Args == i_process.Args
	every i_var in i_process.Env {
		allow_env(p_process.Env, i_var)
	}
}

allow_env(p_env, i_var) if {
	some p_var in p_env
	p_var == i_var
}

# Every layer storage the host sends must carry a root hash the policy pins, in order.
allow_layers(p_layers, i_storages) if {
	i_layers := [s | some s in i_storages; s.driver == "blk"]
	count(i_layers) == count(p_layers)
	every i, i_storage in i_layers {
		allow_layer(p_layers[i], i_storage)
	}
}

allow_layer(p_root_hash, i_storage) if {
	some i_option in i_storage.options
	startswith(i_option, "io.katacontainers.fs-opt.root-hash=")
	i_root_hash := substring(i_option, 35, -1)
	i_root_hash == p_root_hash
}
