// CloudFront Function (cloudfront-js-2.0), viewer request. S3 has no folder
// index, so a folder URL is served its index.html; a folder URL without its
// trailing slash is redirected to it, so the report's relative links resolve.
// A last segment counts as a file when it ends in an extension: a dot then
// 1-10 letters or digits, at least one a letter (".json", ".woff2", but not
// the ".12" of a run id like "9001-1-python-3.12").
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
    return request;
  }
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (/\.(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{1,10}$/.test(last)) {
    return request;
  }
  var query = [];
  var params = request.querystring || {};
  for (var name in params) {
    var param = params[name];
    var values = param.multiValue ? param.multiValue : [param];
    for (var i = 0; i < values.length; i++) {
      query.push(values[i].value === '' ? name : name + '=' + values[i].value);
    }
  }
  return {
    statusCode: 301,
    statusDescription: 'Moved Permanently',
    headers: {
      location: { value: uri + '/' + (query.length ? '?' + query.join('&') : '') },
      'cache-control': { value: 'max-age=3600' }
    }
  };
}
