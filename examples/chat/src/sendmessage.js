'use strict';

const {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} = require('@aws-sdk/client-apigatewaymanagementapi');
const connections = require('./connections');

// One client per endpoint, kept while the process is warm, so that its
// connections (and TLS sessions) are reused from one invocation to the next.
const clients = new Map();
function clientFor(endpoint) {
  let client = clients.get(endpoint);
  if (!client) {
    client = new ApiGatewayManagementApiClient({ endpoint });
    clients.set(endpoint, client);
  }
  return client;
}

// Broadcasts {"action":"sendmessage","data":...} to every open connection.
exports.handler = async (event) => {
  let data;
  try {
    data = JSON.parse(event.body).data;
  } catch (err) {
    return { statusCode: 400, body: 'Expected JSON like {"action":"sendmessage","data":"hello"}' };
  }
  if (typeof data !== 'string') data = JSON.stringify(data ?? null);

  const client = clientFor(`https://${event.requestContext.domainName}/${event.requestContext.stage}`);

  const ids = await connections.list();
  const posts = ids.map(async (connectionId) => {
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
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
