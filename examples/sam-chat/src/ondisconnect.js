'use strict';

const connections = require('./connections');

exports.handler = async (event) => {
  const { connectionId, disconnectStatusCode, disconnectReason } = event.requestContext;
  try {
    await connections.remove(connectionId);
  } catch (err) {
    console.error(`failed to remove ${connectionId}:`, err);
    return { statusCode: 500, body: 'Failed to disconnect: ' + err.message };
  }
  console.log(`disconnected ${connectionId} (${disconnectStatusCode} ${disconnectReason || ''})`);
  return { statusCode: 200, body: 'Disconnected.' };
};
