'use strict';

// The list of open connection ids, kept in a JSON file in the temporary
// directory so the sample runs without DynamoDB. On AWS each function has its
// own /tmp, so a deployed chat needs a shared store (the original sample uses a
// DynamoDB table) in place of this file.
const fs = require('node:fs/promises');
const { readFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const file = path.join(os.tmpdir(), process.env.CONNECTIONS_FILE || 'wsgw-sam-chat-connections.json');

// list reads the file synchronously: a few hundred bytes in the temporary
// directory take one open, read and close, where fs/promises would hand each
// of them to libuv's thread pool and back (about 0.3 ms of CPU per call).
async function list() {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
}

// save writes a temporary file and renames it, so that a reader never sees a
// half-written list.
async function save(ids) {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(ids));
  await fs.rename(tmp, file);
}

// withLock runs fn holding a lock directory next to the file, so that
// OnConnect, OnDisconnect and SendMessage, whose processes may run at the same
// time, do not lose each other's updates. A lock older than 5 s belongs to a
// process that died holding it and is broken.
async function withLock(fn) {
  const lock = `${file}.lock`;
  const start = Date.now();
  for (;;) {
    try {
      await fs.mkdir(lock);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const st = await fs.stat(lock).catch(() => null);
      if (st && Date.now() - st.mtimeMs > 5000) {
        await fs.rmdir(lock).catch(() => {});
        continue;
      }
      if (Date.now() - start > 5000) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rmdir(lock).catch(() => {});
  }
}

async function add(id) {
  await withLock(async () => {
    const ids = await list();
    if (!ids.includes(id)) {
      ids.push(id);
      await save(ids);
    }
  });
}

async function remove(id) {
  await withLock(async () => {
    const ids = await list();
    const rest = ids.filter((x) => x !== id);
    if (rest.length !== ids.length) await save(rest);
  });
}

module.exports = { file, list, add, remove };
