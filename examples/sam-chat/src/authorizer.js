'use strict';

// A Lambda REQUEST authorizer for $connect. API Gateway calls it only when
// the identity source (?token=) is there (else it answers 401 itself). The
// right token is allowed, with ?name= (or "guest") as the principal and in
// the context; any other token is denied (403).
exports.handler = async (event) => {
  const query = event.queryStringParameters || {};
  const allow = query.token === process.env.CHAT_TOKEN;
  const name = (query.name || 'guest').slice(0, 32);
  return {
    principalId: allow ? name : 'anonymous',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: allow ? 'Allow' : 'Deny', Resource: event.methodArn }],
    },
    context: { name },
  };
};
