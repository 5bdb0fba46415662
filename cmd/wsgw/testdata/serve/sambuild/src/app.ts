import type { APIGatewayProxyWebsocketEventV2 } from "aws-lambda";

export const handler = async (event: APIGatewayProxyWebsocketEventV2) => ({
  statusCode: 200,
  body: `built echo: ${event.body}`,
});
