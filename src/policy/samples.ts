/**
 * Stand-ins for what only the cluster knows (pod IP, node name, UIDs, Secret values): the generator
 * constrains them by pattern, and simulated requests use these samples, which match those patterns.
 */
export const SAMPLE = {
  podIp: '10.244.1.7',
  hostIp: '10.224.0.4',
  nodeName: 'aks-nodepool1-12345678-vmss000000',
  uid: 'f7641c61-8a63-4bc6-98b9-6a4a5b0d860a',
  secret: 'simulated-secret-value',
  number: '4',
  kubernetesServiceIp: '10.0.0.1',
} as const;
