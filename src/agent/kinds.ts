/**
 * Every API call the Kata agent asks its policy about: the gRPC method of `AgentService`
 * (kata-containers src/libs/protocols/protos/agent.proto) and the protobuf request message whose name
 * is the policy entry point (`data.agent_policy.<request>`). Several methods share one request message
 * (ReadStdout and ReadStderr both send ReadStreamRequest).
 */

export interface RequestKind {
  /** Protobuf message name, the policy entry point. */
  request: string;
  /** gRPC methods of AgentService that send it. */
  methods: readonly string[];
  /** What the call does, for help output and denial messages. */
  summary: string;
  /** Group, as the .proto file groups its methods. */
  group: 'execution' | 'stdio' | 'networking' | 'observability' | 'misc' | 'tracing' | 'policy';
}

export const REQUEST_KINDS: readonly RequestKind[] = [
  { request: 'CreateContainerRequest', methods: ['CreateContainer'], group: 'execution', summary: 'create a container from an OCI spec' },
  { request: 'StartContainerRequest', methods: ['StartContainer'], group: 'execution', summary: 'start a created container' },
  { request: 'RemoveContainerRequest', methods: ['RemoveContainer'], group: 'execution', summary: 'tear down a container' },
  { request: 'ExecProcessRequest', methods: ['ExecProcess'], group: 'execution', summary: 'run a process in a container (kubectl exec, probes)' },
  { request: 'SignalProcessRequest', methods: ['SignalProcess'], group: 'execution', summary: 'send a signal to a process' },
  { request: 'WaitProcessRequest', methods: ['WaitProcess'], group: 'execution', summary: 'wait for a process to exit' },
  { request: 'UpdateContainerRequest', methods: ['UpdateContainer'], group: 'execution', summary: "update a container's resources" },
  { request: 'UpdateEphemeralMountsRequest', methods: ['UpdateEphemeralMounts'], group: 'execution', summary: 'update ephemeral (tmpfs) mounts' },
  { request: 'StatsContainerRequest', methods: ['StatsContainer'], group: 'execution', summary: 'read container statistics' },
  { request: 'PauseContainerRequest', methods: ['PauseContainer'], group: 'execution', summary: 'pause a container' },
  { request: 'ResumeContainerRequest', methods: ['ResumeContainer'], group: 'execution', summary: 'resume a paused container' },
  { request: 'RemoveStaleVirtiofsShareMountsRequest', methods: ['RemoveStaleVirtiofsShareMounts'], group: 'execution', summary: 'remove stale virtio-fs share mounts' },
  { request: 'WriteStreamRequest', methods: ['WriteStdin'], group: 'stdio', summary: "write to a process's stdin" },
  { request: 'ReadStreamRequest', methods: ['ReadStdout', 'ReadStderr'], group: 'stdio', summary: "read a process's stdout or stderr (container logs)" },
  { request: 'CloseStdinRequest', methods: ['CloseStdin'], group: 'stdio', summary: "close a process's stdin" },
  { request: 'TtyWinResizeRequest', methods: ['TtyWinResize'], group: 'stdio', summary: 'resize a terminal' },
  { request: 'UpdateInterfaceRequest', methods: ['UpdateInterface'], group: 'networking', summary: 'configure a network interface' },
  { request: 'UpdateRoutesRequest', methods: ['UpdateRoutes'], group: 'networking', summary: 'configure routes' },
  { request: 'ListInterfacesRequest', methods: ['ListInterfaces'], group: 'networking', summary: 'list network interfaces' },
  { request: 'ListRoutesRequest', methods: ['ListRoutes'], group: 'networking', summary: 'list routes' },
  { request: 'AddARPNeighborsRequest', methods: ['AddARPNeighbors'], group: 'networking', summary: 'add ARP neighbours' },
  { request: 'GetIPTablesRequest', methods: ['GetIPTables'], group: 'networking', summary: 'read iptables rules' },
  { request: 'SetIPTablesRequest', methods: ['SetIPTables'], group: 'networking', summary: 'replace iptables rules' },
  { request: 'GetMetricsRequest', methods: ['GetMetrics'], group: 'observability', summary: 'read agent metrics' },
  { request: 'CreateSandboxRequest', methods: ['CreateSandbox'], group: 'misc', summary: 'create the pod sandbox' },
  { request: 'DestroySandboxRequest', methods: ['DestroySandbox'], group: 'misc', summary: 'destroy the pod sandbox' },
  { request: 'OnlineCPUMemRequest', methods: ['OnlineCPUMem'], group: 'misc', summary: 'bring hot-plugged CPUs and memory online' },
  { request: 'ReseedRandomDevRequest', methods: ['ReseedRandomDev'], group: 'misc', summary: "reseed the guest's random device" },
  { request: 'GuestDetailsRequest', methods: ['GetGuestDetails'], group: 'misc', summary: 'read guest details' },
  { request: 'MemHotplugByProbeRequest', methods: ['MemHotplugByProbe'], group: 'misc', summary: 'hot-plug memory by probe' },
  { request: 'SetGuestDateTimeRequest', methods: ['SetGuestDateTime'], group: 'misc', summary: "set the guest's clock" },
  { request: 'CopyFileRequest', methods: ['CopyFile'], group: 'misc', summary: 'copy a file from the host into the guest' },
  { request: 'GetOOMEventRequest', methods: ['GetOOMEvent'], group: 'misc', summary: 'wait for an out-of-memory event' },
  { request: 'AddSwapRequest', methods: ['AddSwap'], group: 'misc', summary: 'add swap space' },
  { request: 'VolumeStatsRequest', methods: ['GetVolumeStats'], group: 'misc', summary: 'read volume statistics' },
  { request: 'ResizeVolumeRequest', methods: ['ResizeVolume'], group: 'misc', summary: 'resize a volume' },
  { request: 'SetPolicyRequest', methods: ['SetPolicy'], group: 'policy', summary: 'replace the policy' },
  { request: 'MemAgentMemcgConfig', methods: ['MemAgentMemcgSet'], group: 'misc', summary: 'configure the memory agent (memcg)' },
  { request: 'MemAgentCompactConfig', methods: ['MemAgentCompactSet'], group: 'misc', summary: 'configure the memory agent (compaction)' },
  { request: 'StartTracingRequest', methods: ['StartTracing'], group: 'tracing', summary: 'start agent tracing (older agents)' },
  { request: 'StopTracingRequest', methods: ['StopTracing'], group: 'tracing', summary: 'stop agent tracing (older agents)' },
  { request: 'CheckRequest', methods: ['Check'], group: 'misc', summary: 'health check (Health service)' },
  { request: 'VersionCheckRequest', methods: ['Version'], group: 'misc', summary: 'version check (Health service)' },
];

/** The pseudo entry the agent queries once per loaded policy to read its debug switch. */
export const ALLOW_FAILURES_ENTRY = 'AllowRequestsFailingPolicy';

const BY_REQUEST = new Map(REQUEST_KINDS.map((k) => [k.request, k]));
const BY_METHOD = new Map(REQUEST_KINDS.flatMap((k) => k.methods.map((m) => [m, k] as const)));

/** Finds a kind by request message name (`CreateContainerRequest`) or method name (`CreateContainer`). */
export function findRequestKind(name: string): RequestKind | undefined {
  return BY_REQUEST.get(name) ?? BY_METHOD.get(name);
}
