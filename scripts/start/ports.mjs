/**
 * @module start/ports
 * Who holds a TCP port, asked before `wrangler dev` is started, so that a taken port is a
 * sentence naming the process and the way out rather than a wrangler stack trace.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';

/** Whether `host:port` can be bound now (it is closed again at once). */
export function portIsFree(port, host) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** The process listening on `port` as `"<command> (pid <n>)"`, or null when it cannot be told. */
export function listenerOf(port) {
  return fromLsof(port) ?? fromProc(port);
}

// macOS and most Linux desktops have lsof; it answers for other users' processes too when allowed.
function fromLsof(port) {
  try {
    const out = execFileSync('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
    const pid = /^p(\d+)$/m.exec(out)?.[1];
    const command = /^c(.+)$/m.exec(out)?.[1];
    return pid ? `${command ?? 'a process'} (pid ${pid})` : null;
  } catch {
    return null; // no lsof, or nothing it may see
  }
}

// Linux without lsof (containers, CI): the listening socket's inode in /proc/net/tcp{,6}, then the
// process whose fd links to it. Sees only the processes this user may inspect.
function fromProc(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A') inodes.add(f[9]); // 0A: LISTEN
    }
  }
  if (inodes.size === 0) return null;
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
        return `${cmd.length > 120 ? cmd.slice(0, 117) + '...' : cmd} (pid ${pid})`;
      }
    }
  }
  return null;
}
