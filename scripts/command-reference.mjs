// Writes docs/reference.md from the CLI's own help: every command and group, in tree order.
// Run: node --import tsx scripts/command-reference.mjs [--check]
// With --check, exits 1 when docs/reference.md differs from what the help says now.
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../src/cli/main.ts';

const OUT = fileURLToPath(new globalThis.URL('../docs/reference.md', import.meta.url));

export async function commandReference() {
  const sections = [];
  const walk = (command, path) => {
    command.configureHelp({ helpWidth: 100 });
    const help = command.helpInformation().replaceAll(homedir(), '~').trimEnd();
    sections.push(`## \`${path.join(' ')}\`\n\n\`\`\`text\n${help}\n\`\`\``);
    for (const sub of command.commands) if (sub.name() !== 'help') walk(sub, [...path, sub.name()]);
  };
  // buildProgram is async (command groups load lazily); with no filter it loads every group.
  walk(await buildProgram(), ['confcom']);
  return `# Command reference\n\nGenerated from the CLI's help by \`node --import tsx scripts/command-reference.mjs\`; do not edit by hand.\n\n${sections.join('\n\n')}\n`;
}

const text = await commandReference();
if (process.argv.includes('--check')) {
  if (readFileSync(OUT, 'utf8') !== text) {
    process.stderr.write('docs/reference.md is out of date: run node --import tsx scripts/command-reference.mjs\n');
    process.exit(1);
  }
} else {
  writeFileSync(OUT, text);
}
