'use strict';

// The list of open connection ids, kept in a JSON file in the temporary
// directory so the sample runs without DynamoDB. On AWS each function has its
// own /tmp, so a deployed chat needs a shared store (the original sample uses a
// DynamoDB table) in place of this file.
const fs = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');

const file = path.join(os.tmpdir(), process.env.CONNECTIONS_FILE || 'wsgw-chat-connections.json');

async function list() {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8'));
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

async function add(id) {
  const ids = await list();
  if (!ids.includes(id)) {
    ids.push(id);
    await save(ids);
  }
}

async function remove(id) {
  const ids = await list();
  const rest = ids.filter((x) => x !== id);
  if (rest.length !== ids.length) await save(rest);
}

module.exports = { file, list, add, remove };
