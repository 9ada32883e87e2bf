/** `confcom image ...`: container images and their layer pins (issue: image layers). */
import { Command } from './commander.js';
import { readInputText } from '../core/fs.js';
import { inspectImage, LayerCache, type ImageInfo } from '../oci/index.js';
import { defaultCacheDir } from '../oci/cache.js';
import { globalOptions, printJson, printLine } from './context.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function printHuman(info: ImageInfo): void {
  printLine(`image     ${info.reference}`);
  printLine(`canonical ${info.canonical}`);
  printLine(`platform  ${info.platform.os}/${info.platform.architecture}${info.platform.variant ? `/${info.platform.variant}` : ''}`);
  if (info.config.user) printLine(`user      ${info.config.user}`);
  if (info.config.entrypoint) printLine(`entrypoint ${JSON.stringify(info.config.entrypoint)}`);
  if (info.config.cmd) printLine(`cmd       ${JSON.stringify(info.config.cmd)}`);
  printLine('layers (bottom to top): diff ID, dm-verity root hash of tar+tarfs index');
  for (const layer of info.layers) printLine(`  ${layer.diffId}  ${layer.rootHash}`);
}

export function registerImage(program: Command): void {
  const group = program.command('image').description('inspect container images: config, layers and dm-verity layer pins');
  group
    .command('inspect')
    .description('resolve REF, pin every layer (dm-verity root hash of tar + tarfs index) and print config and pins')
    .argument('<ref>', 'image reference, e.g. docker.io/library/nginx:1.27')
    .option('--platform <os/arch[/variant]>', 'platform to choose from a multi-arch index', 'linux/amd64')
    .option('--cache <dir>', 'layer pin cache directory', defaultCacheDir())
    .option('--insecure-registry <host>', 'registry reached over plain HTTP (repeatable)', collect, [])
    .option('--docker-config <file>', 'Docker config file with registry credentials')
    .option('--image-source <source>', "read the image from 'oci-layout:DIR' or 'docker-archive:FILE' instead of a registry")
    .option('--offline', 'no network: manifests, configs and layer pins only from the cache (filled by an earlier online run)')
    .option('--import-layers-cache <file>', "first import genpolicy's layers-cache.json into the cache")
    .option('-q, --quiet', 'no pull progress on stderr')
    .action(async (ref: string, opts: { platform: string; cache: string; insecureRegistry: string[]; dockerConfig?: string; imageSource?: string; offline?: boolean; importLayersCache?: string; quiet?: boolean }, command: Command) => {
      const { json } = globalOptions(command);
      if (opts.importLayersCache) await new LayerCache(opts.cache).importGenpolicy(await readInputText(opts.importLayersCache), opts.importLayersCache);
      const info = await inspectImage(ref, {
        platform: opts.platform,
        cacheDir: opts.cache,
        insecureRegistries: opts.insecureRegistry,
        dockerConfigFile: opts.dockerConfig,
        imageSource: opts.imageSource,
        offline: opts.offline === true,
        // Live lines on a terminal, a line per layer otherwise; none under --quiet or --json.
        progress: !json && opts.quiet !== true,
      });
      if (json) printJson(info);
      else printHuman(info);
    });
}
