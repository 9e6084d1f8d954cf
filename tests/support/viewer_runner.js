// Appended to the viewer-request function's code by tests/support/viewer.rs,
// and run as one script under node and under njs: it answers a batch of
// CloudFront events (the JSON file named by the last argument) and writes
// beside it (its name plus .node or .njs; njs cuts long console lines), per
// event, the function's answer and the work it did (HMACs made, message
// bytes they hashed). A case may carry the site's settings (replacing
// CONFIG, as setup's render does) and the clock. ES5 only, as the function.
var fs = require('fs');
var file = process.argv[process.argv.length - 1];
var batch = JSON.parse(fs.readFileSync(file, 'utf8'));
var work = { hmacs: 0, hashed: 0 };
var createHmac = crypto.createHmac;
crypto.createHmac = function (algorithm, key) {
  var hmac = createHmac(algorithm, key);
  work.hmacs++;
  return {
    update: function (data) {
      work.hashed += Buffer.from(data).length;
      hmac.update(data);
      return this;
    },
    digest: function (encoding) {
      return hmac.digest(encoding);
    }
  };
};
var results = [];
var template = CONFIG;
for (var i = 0; i < batch.length; i++) {
  var c = batch[i];
  CONFIG = c.config || template;
  var at = c.now;
  Date.now = function () {
    return at * 1000;
  };
  work = { hmacs: 0, hashed: 0 };
  var answer;
  try {
    answer = handler(c.event);
  } catch (e) {
    answer = { thrown: String(e) };
  }
  results.push({ answer: answer, hmacs: work.hmacs, hashed: work.hashed });
}
fs.writeFileSync(file + '.' + (typeof njs === 'object' ? 'njs' : 'node'), JSON.stringify(results));
