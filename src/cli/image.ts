/** `confcom image ...`: container images and their layer pins (issue: image layers). */
import { Command } from 'commander';

export function registerImage(program: Command): void {
  program.command('image').description('inspect container images: config, layers and dm-verity layer pins');
}
