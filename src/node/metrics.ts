/**
 * Prometheus metrics of the node add-on (prom-client), one registry per process so tests can run
 * several components side by side without clashing names.
 */
import { Counter, Gauge, Registry } from 'prom-client';

export class NodeMetrics {
  readonly registry = new Registry();
  readonly devicesAdvertised = new Gauge({ name: 'confcom_node_devices_advertised', help: 'devices advertised to the kubelet, by resource and health', labelNames: ['resource', 'health'], registers: [this.registry] });
  readonly devicesAllocated = new Counter({ name: 'confcom_node_devices_allocated_total', help: 'devices handed out through Allocate', labelNames: ['resource'], registers: [this.registry] });
  readonly registrations = new Counter({ name: 'confcom_node_registrations_total', help: 'registrations with the kubelet, by result', labelNames: ['resource', 'result'], registers: [this.registry] });
  readonly quotes = new Counter({ name: 'confcom_node_quotes_served_total', help: 'AESM requests answered, by request kind, backend and AESM error code', labelNames: ['request', 'backend', 'code'], registers: [this.registry] });
  readonly errors = new Counter({ name: 'confcom_node_errors_total', help: 'errors, by component and kind', labelNames: ['component', 'kind'], registers: [this.registry] });
  readonly admissions = new Counter({ name: 'confcom_node_admissions_total', help: 'admission reviews answered, by decision', labelNames: ['decision'], registers: [this.registry] });
}
