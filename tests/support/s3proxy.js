#!/usr/bin/env node
// Test support: a recording proxy in front of s3rver (the S3 API the cleanup tests upload to).
// s3rver keeps neither the server-side-encryption headers nor checks SigV4 signatures, so this
// proxy records every request (method, path, headers, body digest) as one JSON line in --log,
// verifies its AWS Signature Version 4 against --secret (recording sig_ok / sig_error and any
// x-amz-* header left unsigned), can answer with injected S3 errors, and forwards the rest.
//   node s3proxy.js --target http://127.0.0.1:PORT --log FILE --secret KEY
// prints "s3proxy listening on 127.0.0.1:PORT". Control (not logged, not forwarded):
//   POST /__proxy/fail {"method":"PUT","status":503,"code":"SlowDown","count":2}  next `count` matches fail
//   DELETE /__proxy/fail                                                          no more failures
// Node's own crypto computes the digests: an independent check of libcurl's signing.
'use strict';

const http = require('http');
const crypto = require('crypto');
const fs = require('fs');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const target = new URL(args.target);
let failures = [];

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

// RFC 3986 encoding as SigV4 wants it (query keys and values).
function uriEncode(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

// Checks the Authorization header of a request; returns {ok, error, unsigned}.
function verify(req, body) {
  const auth = req.headers['authorization'] || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { ok: false, error: 'no AWS4-HMAC-SHA256 Authorization header: ' + auth };
  const [, , date, region, service, signedList, signature] = m;
  const signed = signedList.split(';');
  const unsigned = Object.keys(req.headers).filter((h) => h.startsWith('x-amz-') && !signed.includes(h));
  const amzDate = req.headers['x-amz-date'] || '';
  if (!signed.includes('host') || !signed.includes('x-amz-date')) return { ok: false, error: 'host or x-amz-date not signed', unsigned };
  const url = new URL(req.url, 'http://x');
  const query = [...url.searchParams.entries()].map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => k + '=' + v).join('&');
  const canonHeaders = signed.map((h) => h + ':' + String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ') + '\n').join('');
  const payload = req.headers['x-amz-content-sha256'] || sha256(body);
  if (payload !== 'UNSIGNED-PAYLOAD' && payload !== sha256(body)) {
    return { ok: false, error: 'x-amz-content-sha256 is not the SHA-256 of the body', unsigned };
  }
  const canonical = [req.method, url.pathname, query, canonHeaders, signedList, payload].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac('AWS4' + args.secret, date);
  key = hmac(key, region);
  key = hmac(key, service);
  key = hmac(key, 'aws4_request');
  const expected = crypto.createHmac('sha256', key).update(toSign).digest('hex');
  if (expected !== signature) return { ok: false, error: 'signature mismatch; canonical request:\n' + canonical, unsigned };
  return { ok: true, unsigned, region, service };
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.url.startsWith('/__proxy/fail')) {
      if (req.method === 'DELETE') failures = [];
      else failures.push(JSON.parse(body.toString() || '{}'));
      res.writeHead(204);
      res.end();
      return;
    }
    const v = verify(req, body);
    const entry = {
      method: req.method, path: req.url, headers: req.headers, body_len: body.length,
      body_sha256: sha256(body), sig_ok: v.ok, sig_error: v.error || null, unsigned: v.unsigned || [],
      region: v.region || null, service: v.service || null,
    };
    const f = failures.find((x) => x.count > 0 && (!x.method || x.method === req.method));
    if (f) {
      f.count--;
      entry.status = f.status;
      entry.injected = true;
      fs.appendFileSync(args.log, JSON.stringify(entry) + '\n');
      res.writeHead(f.status, { 'Content-Type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${f.code || 'InternalError'}</Code>` +
        `<Message>${f.message || 'Injected by s3proxy'}</Message></Error>`);
      return;
    }
    const up = http.request({
      host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers,
    }, (r) => {
      entry.status = r.statusCode;
      fs.appendFileSync(args.log, JSON.stringify(entry) + '\n');
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => {
      entry.status = 502;
      entry.error = String(e);
      fs.appendFileSync(args.log, JSON.stringify(entry) + '\n');
      res.writeHead(502);
      res.end();
    });
    up.end(body);
  });
});

server.listen(Number(args.port || 0), '127.0.0.1', () => {
  console.log('s3proxy listening on 127.0.0.1:' + server.address().port);
});
process.on('SIGTERM', () => process.exit(0));
