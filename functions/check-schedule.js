// GET/POST /check-schedule?name=<schedule>[&simulate=<ISO 8601>]
// Studio's Run Function widget calls this on every inbound call. The schedule crate decides the
// whole answer (status and body); this shim reads the request and the shipped config, and responds.
const fs = require('fs');
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle } = require(Runtime.getFunctions()['common/http'].path);

// Parsed and validated once per container, and again if the module ever has to be reloaded.
const schedule = wasmModule('schedule', (wasm) => {
  const config = fs.readFileSync(Runtime.getAssets()['/config.json'].path, 'utf8');
  return new wasm.ScheduleBook(config);
});

const text = (value) => (value === undefined || value === null ? undefined : String(value));

exports.handler = handle(async (context, event) =>
  schedule.call((wasm, book) => book.check(text(event.name), text(event.simulate), Date.now())),
);
