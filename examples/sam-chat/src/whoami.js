'use strict';

// whoami is a two-way route: the body goes back to the caller.
exports.handler = async (event) => {
  const { connectionId, authorizer = {} } = event.requestContext;
  return {
    statusCode: 200,
    body: JSON.stringify({ connectionId, principalId: authorizer.principalId, name: authorizer.name }),
  };
};
