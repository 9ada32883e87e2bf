/**
 * The process user the runtime sets, as containerd resolves it: `runAsUser`/`runAsGroup` (container,
 * then pod), else the image's `User` (name or number, with an optional `:group`), looked up in the
 * image's /etc/passwd and /etc/group; additional groups are the primary group, the groups listing the
 * user as a member, `supplementalGroups` and `fsGroup`.
 */
export interface ProcessUser {
  UID: number;
  GID: number;
  AdditionalGids: number[];
  Username: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  return (text ?? '').split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) return [];
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    return Number.isInteger(uid) && Number.isInteger(gid) ? [{ name: f[0], uid, gid }] : [];
  });
}

function parseGroup(text: string | undefined): GroupEntry[] {
  return (text ?? '').split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 3 || line.startsWith('#')) return [];
    const gid = Number(f[2]);
    return Number.isInteger(gid) ? [{ name: f[0], gid, members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) }] : [];
  });
}

const isNumber = (s: string) => /^[0-9]+$/.test(s);

export interface UserInputs {
  /** The image config's `User` (e.g. `app`, `1000`, `1000:1000`, `app:staff`). */
  imageUser?: string;
  passwd?: string;
  group?: string;
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  fsGroup?: number;
}

export class UserResolutionError extends Error {}

export function resolveUser(inputs: UserInputs): ProcessUser {
  const passwd = parsePasswd(inputs.passwd);
  const groups = parseGroup(inputs.group);
  let entry: PasswdEntry | undefined;
  let uid: number;
  let gid: number;
  if (inputs.runAsUser !== undefined) {
    uid = inputs.runAsUser;
    entry = passwd.find((p) => p.uid === uid);
    gid = entry?.gid ?? 0;
  } else {
    const [userPart, groupPart] = (inputs.imageUser ?? '').split(':');
    if (userPart === undefined || userPart === '') {
      uid = 0;
      entry = passwd.find((p) => p.uid === 0);
    } else if (isNumber(userPart)) {
      uid = Number(userPart);
      entry = passwd.find((p) => p.uid === uid);
    } else {
      entry = passwd.find((p) => p.name === userPart);
      if (!entry) throw new UserResolutionError(`the image's user '${userPart}' is not in its /etc/passwd`);
      uid = entry.uid;
    }
    gid = entry?.gid ?? 0;
    if (groupPart !== undefined && groupPart !== '') {
      if (isNumber(groupPart)) gid = Number(groupPart);
      else {
        const g = groups.find((x) => x.name === groupPart);
        if (!g) throw new UserResolutionError(`the image's group '${groupPart}' is not in its /etc/group`);
        gid = g.gid;
      }
    }
  }
  if (inputs.runAsGroup !== undefined) gid = inputs.runAsGroup;
  const additional = [gid];
  if (entry) for (const g of groups) if (g.members.includes(entry.name)) additional.push(g.gid);
  additional.push(...(inputs.supplementalGroups ?? []));
  if (inputs.fsGroup !== undefined) additional.push(inputs.fsGroup);
  return { UID: uid, GID: gid, AdditionalGids: [...new Set(additional)], Username: '' };
}
