// connections.mjs drives wsgw's @connections API with the AWS SDK for JavaScript v3,
// exactly as a deployed Lambda would: node connections.mjs ENDPOINT CONNECTION_ID MESSAGE
// It posts MESSAGE, reads the connection, deletes it, posts again (expecting GoneException)
// and prints one JSON line per step.
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
  GetConnectionCommand,
  DeleteConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";

const [endpoint, connectionId, message] = process.argv.slice(2);
const client = new ApiGatewayManagementApiClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
});

async function step(name, command) {
  try {
    const out = await client.send(command);
    const { $metadata, ...rest } = out;
    console.log(JSON.stringify({ step: name, ok: true, status: $metadata.httpStatusCode, ...rest }));
  } catch (err) {
    console.log(JSON.stringify({ step: name, ok: false, error: err.name, status: err.$metadata?.httpStatusCode }));
  }
}

await step("post", new PostToConnectionCommand({ ConnectionId: connectionId, Data: message }));
await step("get", new GetConnectionCommand({ ConnectionId: connectionId }));
await step("delete", new DeleteConnectionCommand({ ConnectionId: connectionId }));
await step("post-after-delete", new PostToConnectionCommand({ ConnectionId: connectionId, Data: message }));
