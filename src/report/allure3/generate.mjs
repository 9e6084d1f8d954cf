// Generates an Allure 3 report through Allure's own library
// (@allurereport/core): `allure generate` takes no history path and never
// runs the quality gate, and a publish needs both. allure-host writes this
// file next to the report and runs it with Node.js 22 or newer.
//
// argv[2]: JSON {core, cwd, results[], output, historyPath, historyLimit,
//                historyBaseUrl, name}
import { pathToFileURL } from "node:url";

const job = JSON.parse(process.argv[2]);
const core = await import(pathToFileURL(job.core).href);

// The project's own allurerc (plugins, quality gate rules, name...) is read
// from the working directory as `allure generate` would; where the report
// goes and where its history lives are ours.
const own = await core.readRawConfig(job.cwd);
const config = await core.readConfig(job.cwd, undefined, {
  output: job.output,
  historyBaseUrl: job.historyBaseUrl,
  name: own.name ?? job.name,
});
config.historyPath = job.historyPath;
config.historyLimit = own.historyLimit ?? job.historyLimit;

const report = new core.AllureReport(config);
await report.start();
for (const dir of job.results) {
  await report.readDirectory(dir);
}
if (report.hasQualityGate) {
  const trs = await report.store.allTestResults({ includeRetries: false });
  const { results } = await report.validate({ trs });
  report.realtimeDispatcher.sendQualityGateResults(results);
}
await report.done();
