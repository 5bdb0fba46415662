'use strict';

const connections = require('./connections');

exports.handler = async (event) => {
  const { connectionId, authorizer } = event.requestContext;
  try {
    await connections.add(connectionId);
  } catch (err) {
    console.error(`failed to store ${connectionId}:`, err);
    return { statusCode: 500, body: 'Failed to connect: ' + err.message };
  }
  console.log(`connected ${connectionId} as ${authorizer && authorizer.name}`);
  return { statusCode: 200, body: 'Connected.' };
};
