// Bundled handler of WsChatStack/Handler: one function behind every route.
exports.handler = async (event) => {
  const { routeKey, connectionId, eventType } = event.requestContext;
  console.log(JSON.stringify({ level: process.env.LOG_LEVEL, routeKey, eventType, connectionId }));

  switch (routeKey) {
    case '$connect':
    case '$disconnect':
      return { statusCode: 200 };
    case 'sendmessage': {
      // Two-way route: the body is sent back to the caller.
      let data = null;
      try {
        data = JSON.parse(event.body).data ?? null;
      } catch (err) {
        return { statusCode: 400, body: JSON.stringify({ error: 'body must be JSON' }) };
      }
      return { statusCode: 200, body: JSON.stringify({ echo: data, connectionId }) };
    }
    default:
      // $default is one-way: the body of this answer reaches no one.
      console.log(`unrouted message from ${connectionId}: ${event.body}`);
      return { statusCode: 200 };
  }
};
