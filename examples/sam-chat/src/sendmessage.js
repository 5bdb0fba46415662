'use strict';

const {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} = require('@aws-sdk/client-apigatewaymanagementapi');
const connections = require('./connections');

// One client per endpoint, kept while the process is warm.
const clients = new Map();
function clientFor(endpoint) {
  let client = clients.get(endpoint);
  if (!client) {
    client = new ApiGatewayManagementApiClient({ endpoint });
    clients.set(endpoint, client);
  }
  return client;
}

// Broadcasts {"action":"sendMessage","data":...} to every open connection as
// {"from": NAME, "data": ...}, NAME being what the authorizer named the sender.
exports.handler = async (event) => {
  let data;
  try {
    data = JSON.parse(event.body).data;
  } catch (err) {
    return { statusCode: 400, body: 'Expected JSON like {"action":"sendMessage","data":"hello"}' };
  }
  const from = (event.requestContext.authorizer || {}).name || 'guest';
  const frame = JSON.stringify({ from, data: data ?? null });

  const { domainName, stage } = event.requestContext;
  const client = clientFor(`https://${domainName}/${stage}`);

  const ids = await connections.list();
  const posts = ids.map(async (connectionId) => {
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: frame }));
    } catch (err) {
      if (err.name === 'GoneException' || err.$metadata?.httpStatusCode === 410) {
        console.log(`found stale connection, deleting ${connectionId}`);
        await connections.remove(connectionId);
        return;
      }
      throw err;
    }
  });
  try {
    await Promise.all(posts);
  } catch (err) {
    console.error('broadcast failed:', err);
    return { statusCode: 500, body: err.stack };
  }
  return { statusCode: 200, body: 'Data sent.' };
};
