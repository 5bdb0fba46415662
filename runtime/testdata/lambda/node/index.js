'use strict';

// The WebSocket test function of runtime's Lambda tests, for nodejs*.x: the
// same behaviour as ../gows (see its doc comment), without dependencies.
const fs = require('node:fs');

exports.handler = async (event) => {
  fs.appendFileSync(process.env.EVENTS_FILE, JSON.stringify(event) + '\n');
  const rc = event.requestContext;
  if (rc.eventType === 'CONNECT') {
    const resp = { statusCode: 200 };
    const refuse = event.headers && event.headers['X-Refuse'];
    if (refuse) resp.statusCode = Number(refuse);
    const proto = event.headers && event.headers['Sec-WebSocket-Protocol'];
    if (proto) resp.headers = { 'Sec-WebSocket-Protocol': proto };
    return resp;
  }
  if (rc.eventType === 'DISCONNECT') return { statusCode: 200 };
  let action = '';
  try {
    action = JSON.parse(event.body).action;
  } catch {}
  switch (action) {
    case 'fail':
      throw new Error('failing as asked');
    case 'garbage':
      process.stdout.write('\x00\x01 garbage on stdout \xff\n');
      return 'garbage';
    case 'crash':
      process.exit(3);
    case 'hang':
      await new Promise((resolve) => setTimeout(resolve, 30000));
  }
  return { statusCode: 200, body: JSON.stringify({ event, pid: process.pid }) };
};
