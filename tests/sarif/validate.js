// validate.js FILE... - checks each file against the SARIF 2.1.0 JSON schema
// kept beside this script (sarif-schema-2.1.0.json), with string formats
// (uri, uri-reference, date-time, ...) enforced. Exit 0 when every file is
// valid, 1 otherwise, with the schema errors on stderr.
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

const schema = JSON.parse(fs.readFileSync(path.join(__dirname, 'sarif-schema-2.1.0.json'), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);

let bad = 0;
for (const file of process.argv.slice(2)) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(`${file}: not JSON: ${e.message}`);
    bad++;
    continue;
  }
  if (!validate(doc)) {
    console.error(`${file}: not valid SARIF 2.1.0:`);
    for (const err of validate.errors)
      console.error(`  ${err.instancePath || '/'} ${err.message} ${JSON.stringify(err.params)}`);
    bad++;
  }
}
process.exit(bad ? 1 : 0);
