// KubeVirt objects for an image pushed by `osv push`: a VirtualMachine (or, with replicas, a
// VirtualMachinePool) that boots the OSv kernel from the image's /boot (kernelBoot) with the
// run's command line, its disk from the same image's /disk (containerDisk, first in disks[]),
// memory and CPUs from the run, a masquerade pod-network interface listing the run's guest
// ports, and a Service for those ports. Pure: built as KubeVirt's and Kubernetes' own API types
// (the published models of their OpenAPI), so the compiler checks every field's name and type.

import type { V1alpha1VirtualMachinePool, V1VirtualMachine, V1VirtualMachineSpec } from '@kubevirt-ui-ext/kubevirt-api/kubevirt';
import type { IoK8sApiCoreV1Service } from '@kubevirt-ui-ext/kubevirt-api/kubernetes';
import { stringify } from 'yaml';
import type { OsvImageMeta, PortableRun } from '../oci/osv-image.js';
import { addKernelOptions } from '../run/cmdline.js';

export interface KubevirtInput {
  /** The image as the cluster pulls it, pinned: registry/repo:tag@sha256:… */
  image: string;
  meta: OsvImageMeta;
  run: PortableRun;
  /** Object name (DNS-1123 label). */
  name: string;
  namespace?: string;
  /** A VirtualMachinePool of this many VMs instead of one VirtualMachine. */
  replicas?: number;
}

export type KubevirtObject = V1VirtualMachine | V1alpha1VirtualMachinePool | IoK8sApiCoreV1Service;

export const CONTAINER_DISK = 'containerdisk';
export const POD_NETWORK = 'default';
const NAME_LABEL = 'app.kubernetes.io/name';

/** A name Kubernetes accepts (DNS-1123 label): lowercase, digits and '-', at most 63. */
export function objectName(text: string): string {
  const n = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return n === '' ? 'osv' : n;
}

/** Bytes as a Kubernetes quantity in whole MiB. */
export const mebibytes = (bytes: number): string => `${Math.ceil(bytes / 2 ** 20)}Mi`;

/** The guest ports of a run, once each (host ports mean nothing in a pod). */
function guestPorts(run: PortableRun): Array<{ port: number; protocol: 'TCP' | 'UDP' }> {
  const seen = new Set<string>();
  const out: Array<{ port: number; protocol: 'TCP' | 'UDP' }> = [];
  for (const p of run.settings.ports) {
    const protocol = p.protocol === 'udp' ? 'UDP' : 'TCP';
    if (seen.has(`${p.guest}/${protocol}`)) continue;
    seen.add(`${p.guest}/${protocol}`);
    out.push({ port: p.guest, protocol });
  }
  return out;
}

/**
 * The kernel command line KubeVirt passes to QEMU's -append: the run's, plus
 * --power-off-on-abort, so that an aborted OSv stops the VM (which runStrategy Always restarts)
 * instead of halting in place.
 */
export const kernelArgsFor = (run: PortableRun): string => addKernelOptions(run.cmdline, ['--power-off-on-abort']);

function vmSpec(input: KubevirtInput, labels: Record<string, string>): V1VirtualMachineSpec {
  const { run, meta, image } = input;
  const ports = guestPorts(run);
  return {
    runStrategy: 'Always',
    template: {
      metadata: { labels },
      spec: {
        domain: {
          cpu: { cores: run.settings.cpus },
          memory: { guest: mebibytes(run.settings.memory) },
          firmware: {
            kernelBoot: {
              kernelArgs: kernelArgsFor(run),
              container: { image, kernelPath: meta.kernel.path, imagePullPolicy: 'IfNotPresent' },
            },
          },
          devices: {
            disks: [{ name: CONTAINER_DISK, disk: { bus: 'virtio' } }],
            interfaces: [{ name: POD_NETWORK, masquerade: {}, ...(ports.length > 0 ? { ports: ports.map((p) => ({ name: `${p.protocol.toLowerCase()}-${p.port}`, port: p.port, protocol: p.protocol })) } : {}) }],
          },
        },
        networks: [{ name: POD_NETWORK, pod: {} }],
        volumes: [{ name: CONTAINER_DISK, containerDisk: { image, path: meta.disk.path, imagePullPolicy: 'IfNotPresent' } }],
      },
    },
  };
}

/** The objects, in the order `kubectl apply` should see them. */
export function kubevirtObjects(input: KubevirtInput): KubevirtObject[] {
  const name = input.name;
  const meta = (labels: Record<string, string>) => ({ name, ...(input.namespace ? { namespace: input.namespace } : {}), labels });
  const selector = { [NAME_LABEL]: name };
  const labels = { ...selector, 'app.kubernetes.io/managed-by': 'osv-up' };
  const annotations = { 'osv-up.io/image': input.image, 'osv-up.io/run': input.run.name };
  const objects: KubevirtObject[] = [];
  if (input.replicas !== undefined) {
    const pool: V1alpha1VirtualMachinePool = {
      apiVersion: 'pool.kubevirt.io/v1alpha1',
      kind: 'VirtualMachinePool',
      metadata: { ...meta(labels), annotations },
      spec: {
        replicas: input.replicas,
        selector: { matchLabels: selector },
        virtualMachineTemplate: { metadata: { labels }, spec: vmSpec(input, labels) },
      },
    };
    objects.push(pool);
  } else {
    const vm: V1VirtualMachine = { apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { ...meta(labels), annotations }, spec: vmSpec(input, labels) };
    objects.push(vm);
  }
  const ports = guestPorts(input.run);
  if (ports.length > 0) {
    const service: IoK8sApiCoreV1Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(labels),
      // targetPort is left out: it defaults to port (the model types it as a string, and a string
      // names a container port rather than a number).
      spec: { selector, ports: ports.map((p) => ({ name: `${p.protocol.toLowerCase()}-${p.port}`, port: p.port, protocol: p.protocol })) },
    };
    objects.push(service);
  }
  return objects;
}

/** Multi-document YAML, one object per document. */
export function renderYaml(objects: KubevirtObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
