// Drives OpenAssist with the unmodified Node SDK @alicloud/ecs20140526: RunCommand, then
// DescribeInvocations and DescribeInvocationResults until the task is final. Prints JSON.
// Usage: node ecs_client.js ENDPOINT ACCESS_KEY_ID ACCESS_KEY_SECRET INSTANCE_ID
const Ecs = require("@alicloud/ecs20140526");
const { $OpenApiUtil } = require("@alicloud/openapi-core");

const [endpoint, accessKeyId, accessKeySecret, instanceId] = process.argv.slice(2);
const FINAL = ["Success", "Failed", "Invalid", "Aborted", "Error", "Timeout", "Cancelled", "Terminated"];

async function main() {
  const config = new $OpenApiUtil.Config({
    accessKeyId, accessKeySecret, endpoint, protocol: "http", regionId: "local",
  });
  const client = new Ecs.default(config);
  const run = await client.runCommand(new Ecs.RunCommandRequest({
    regionId: "local", instanceId: [instanceId], type: "RunShellScript",
    commandContent: "echo from node; printf '\\344\\275\\240\\345\\245\\275\\n'",
  }));
  const invokeId = run.body.invokeId;
  const deadline = Date.now() + 60000;
  for (;;) {
    const results = await client.describeInvocationResults(new Ecs.DescribeInvocationResultsRequest({
      regionId: "local", invokeId, contentEncoding: "PlainText",
    }));
    const [result] = results.body.invocation.invocationResults.invocationResult;
    if (FINAL.includes(result.invocationStatus)) {
      const tasks = await client.describeInvocations(new Ecs.DescribeInvocationsRequest({
        regionId: "local", invokeId,
      }));
      const task = tasks.body.invocations.invocation[0];
      console.log(JSON.stringify({
        invokeId, status: result.invocationStatus, exitCode: result.exitCode,
        output: result.output, overall: task.invocationStatus,
      }));
      return;
    }
    if (Date.now() > deadline) throw new Error(`still ${result.invocationStatus}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

main().catch((error) => {
  console.error(error && (error.code || error.message) ? `${error.code}: ${error.message}` : error);
  process.exit(1);
});
