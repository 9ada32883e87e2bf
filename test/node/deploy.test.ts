/**
 * deploy/node: every manifest, and what `kubectl kustomize` renders from it, validates against the
 * Kubernetes API schemas (the kubernetes-models package), runs our CLI with flags it accepts, and keeps
 * least privilege.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { runConfcom } from '../helpers/cli.js';
import { AZURE_EPC_RESOURCE } from '../../src/node/sgx/resources.js';

const ROOT = fileURLToPath(new URL('../../deploy/node', import.meta.url));

interface K8sObject { apiVersion: string; kind: string; metadata?: { name?: string }; spec?: Record<string, unknown> }
interface Container { name: string; image: string; args?: string[]; env?: { name: string; value?: string }[]; resources?: { limits?: Record<string, string> }; securityContext?: Record<string, unknown>; volumeMounts?: { name: string; mountPath: string }[] }
interface PodTemplate { spec: { containers: Container[]; volumes?: { name: string; hostPath?: { path: string } }[]; automountServiceAccountToken?: boolean } }

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return f.endsWith('.yaml') && f !== 'kustomization.yaml' ? [p] : [];
  });
}

const parse = (text: string): K8sObject[] => parseAllDocuments(text).map((d) => d.toJSON() as K8sObject).filter(Boolean);

/** Validates one object with the kubernetes-models class for its apiVersion and kind (throws on a schema error). */
async function validate(object: K8sObject): Promise<void> {
  const specifier = `kubernetes-models/${object.apiVersion}`;
  const module = (await import(/* @vite-ignore */ specifier)) as Record<string, new (o: K8sObject) => { validate(): void }>;
  const Model = module[object.kind];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}

/** kubectl is optional here (not a Debian package .ci/run installs): rendered checks run where it exists. */
function hasKubectl(): boolean {
  const ok = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  if (!ok) process.stderr.write('NOTICE: kubectl not found: skipping the `kubectl kustomize` rendering check\n');
  return ok;
}

const manifests = yamlFiles(ROOT).map((file) => ({ file: relative(ROOT, file), objects: parse(readFileSync(file, 'utf8')) }));
const all = manifests.flatMap((m) => m.objects);
const templates = (): { name: string; template: PodTemplate }[] =>
  all.flatMap((o) => {
    const t = (o.spec as { template?: PodTemplate } | undefined)?.template;
    return t ? [{ name: o.metadata?.name ?? '', template: t }] : [];
  });

describe('deploy/node', () => {
  it('every manifest validates against the Kubernetes API schemas', async () => {
    expect(manifests.map((m) => m.file).sort()).toEqual(['base/device-plugin.yaml', 'base/namespace.yaml', 'components/quote-helper/quote-helper.yaml', 'components/quote-helper/webhook.yaml', 'samples/sgx-quote-job.yaml']);
    for (const object of all) await validate(object);
    // The check has teeth: a DaemonSet without a selector is refused.
    const broken = structuredClone(all.find((o) => o.kind === 'DaemonSet')!);
    delete broken.spec!.selector;
    await expect(validate(broken)).rejects.toThrow(/selector/);
  });

  it.runIf(hasKubectl())('kubectl kustomize renders both entry points into schema-valid objects', async () => {
    for (const [dir, kinds] of [
      ['', ['DaemonSet', 'Namespace']],
      ['with-quote-helper', ['DaemonSet', 'DaemonSet', 'Deployment', 'MutatingWebhookConfiguration', 'Namespace', 'Service']],
    ] as const) {
      const r = spawnSync('kubectl', ['kustomize', join(ROOT, dir)], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      const rendered = parse(r.stdout);
      expect(rendered.map((o) => o.kind).sort()).toEqual([...kinds]);
      for (const object of rendered) await validate(object);
      for (const o of rendered.filter((x) => x.kind !== 'Namespace' && x.kind !== 'MutatingWebhookConfiguration')) expect((o.metadata as { namespace?: string }).namespace).toBe('confcom-system');
    }
  });

  it('runs confcom with flags the CLI accepts', async () => {
    const confcom = templates().flatMap(({ template }) => template.spec.containers.filter((c) => c.image === 'confcom'));
    expect(confcom.map((c) => c.args?.slice(0, 2).join(' ')).sort()).toEqual(['node device-plugin', 'node quote-helper', 'node webhook']);
    const helps = await Promise.all(confcom.map((c) => runConfcom([...c.args!.slice(0, 2), '--help'])));
    confcom.forEach((c, i) => {
      for (const flag of c.args!.filter((a) => a.startsWith('--'))) expect(helps[i].stdout, `${c.args!.slice(0, 2).join(' ')} ${flag}`).toContain(flag);
    });
  });

  it('keeps least privilege: no privileged container, read-only root, all capabilities dropped, no API token', () => {
    for (const { name, template } of templates().filter((t) => t.name.startsWith('confcom-'))) {
      expect(template.spec.automountServiceAccountToken, name).toBe(false);
      for (const c of template.spec.containers) {
        expect(c.securityContext?.privileged, `${name}/${c.name}`).toBeUndefined();
        expect(c.securityContext?.allowPrivilegeEscalation, `${name}/${c.name}`).toBe(false);
        expect(c.securityContext?.capabilities, `${name}/${c.name}`).toEqual({ drop: ['ALL'] });
        if (c.image === 'confcom') expect(c.securityContext?.readOnlyRootFilesystem, `${name}/${c.name}`).toBe(true);
      }
    }
    const plugin = templates().find((t) => t.name === 'confcom-sgx-device-plugin')!.template;
    expect(plugin.spec.volumes?.map((v) => v.hostPath?.path).sort()).toEqual(['/dev', '/sys', '/var/lib/kubelet/device-plugins']);
    const mounts = plugin.spec.containers[0].volumeMounts!;
    expect(mounts.filter((m) => m.mountPath.startsWith('/host/')).every((m) => (m as { readOnly?: boolean }).readOnly === true)).toBe(true);
  });

  it('the quote helper asks the device plugin for EPC, and the sample Job matches the AKS sample', () => {
    const helper = templates().find((t) => t.name === 'confcom-sgx-quote-helper')!.template;
    expect(helper.spec.containers.find((c) => c.name === 'aesmd')!.resources?.limits?.[AZURE_EPC_RESOURCE]).toBe('10');
    const job = all.find((o) => o.kind === 'Job')!;
    const pod = (job.spec as { template: PodTemplate }).template.spec;
    const c = pod.containers[0];
    expect(c.env).toContainEqual({ name: 'SGX_AESM_ADDR', value: '1' });
    expect(c.resources?.limits).toEqual({ [AZURE_EPC_RESOURCE]: '10' });
    const volume = pod.volumes!.find((v) => v.hostPath?.path === '/var/run/aesmd')!;
    expect(c.volumeMounts).toContainEqual({ name: volume.name, mountPath: '/var/run/aesmd' });
  });
});
