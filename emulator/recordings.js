// Recordings made by <Record> (api.twilio.com/2010-04-01):
//   GET    /2010-04-01/Accounts/{AC}/Recordings/{RE}.json     fetch
//   DELETE /2010-04-01/Accounts/{AC}/Recordings/{RE}.json     delete (204; then 404)
//   GET    /2010-04-01/Accounts/{AC}/Recordings/{RE}.wav|.mp3 the media, with the account's credentials
//          (the recording's `media_url` + extension; twilio-oai does not define it: see openapi.js)
// No audio happens, so the emulator's control endpoint plays the caller's part:
//   POST /emulator/calls/{CA}/record {durationSeconds (default 5), transcriptionText?,
//        transcriptionStatus (completed|failed, default completed), order (default
//        action,status,transcription), repeat.<part> (deliveries of that part: 2 = a duplicate,
//        0 = lost: never delivered), holdMs?}
//   executes the <Record> of the TwiML the call is running (the answer of its last Url, or its
//   Twiml): creates the recording, then sends the <Record> action, the recording status callback
//   (RecordingStatus=completed) and, with transcribe="true", the transcription callback, each signed
//   and redelivered as its URL's `#rc=..&rp=..` says. Answers {recording, deliveries: {action,
//   status, transcription}}. 400 when the call runs no <Record>.
// The media is deterministic: `wavBytes(duration)` (8 kHz, 16-bit mono PCM, a 440 Hz tone for
// min(duration, 2) s) for .wav; `mp3Bytes(sid)` (a fixed ID3 tag and padding, not playable audio)
// for .mp3. Tests compare the bytes streamed by /voicemail with these.

/** A small valid WAV: `seconds` (at most 2) of a 440 Hz tone, 8 kHz, 16-bit mono. */
function wavBytes(seconds) {
  const rate = 8000;
  const samples = Math.max(1, Math.round(Math.min(Math.max(Number(seconds) || 1, 0.1), 2) * rate));
  const buf = Buffer.alloc(44 + samples * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + samples * 2, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i += 1) buf.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return buf;
}

/** Deterministic stand-in bytes for a recording's .mp3 (an ID3 header naming it, then zeros). */
function mp3Bytes(sid) {
  const tag = Buffer.from(`ID3\u0003\u0000\u0000emulator recording ${sid}`, 'latin1');
  return Buffer.concat([tag, Buffer.alloc(256)]);
}

const unescapeXml = (s) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&amp;/g, '&');

/** The attributes of the first <Record> in `twiml`, or null. */
function recordVerb(twiml) {
  const m = /<Record\b([^>]*?)\/?>/.exec(String(twiml || ''));
  if (!m) return null;
  const attrs = {};
  for (const a of m[1].matchAll(/([A-Za-z]+)="([^"]*)"/g)) attrs[a[1]] = unescapeXml(a[2]);
  return attrs;
}

module.exports = {
  name: 'recordings',
  wavBytes,
  mp3Bytes,
  recordVerb,

  init: () => ({ recordings: new Map(), deleted: new Set() }),

  routes(router, ctx) {
    const { lib, clock } = ctx;
    const area = () => ctx.state.recordings;
    const base = `/2010-04-01/Accounts/${ctx.accountSid}`;
    const opts = { product: 'api' };

    const view = (r) => ({
      sid: r.sid,
      account_sid: ctx.accountSid,
      api_version: '2010-04-01',
      call_sid: r.callSid,
      conference_sid: null,
      date_created: lib.rfc2822(r.dateCreated),
      date_updated: lib.rfc2822(r.dateCreated),
      start_time: lib.rfc2822(r.startTime),
      duration: String(r.duration),
      price: null,
      price_unit: 'USD',
      status: 'completed',
      channels: 1,
      source: 'RecordVerb',
      error_code: null,
      uri: `${base}/Recordings/${r.sid}.json`,
      encryption_details: null,
      subresource_uris: { transcriptions: `${base}/Recordings/${r.sid}/Transcriptions.json` },
      media_url: `https://api.twilio.com${base}/Recordings/${r.sid}`,
    });
    const find = (sid, path) => {
      const r = area().recordings.get(sid);
      if (!r) throw lib.errors.notFound(path);
      return r;
    };

    router.get('/2010-04-01/Accounts/:account/Recordings/:recording.json', (req) => ({ body: view(find(req.params.recording, req.path)) }), opts);
    router.delete(
      '/2010-04-01/Accounts/:account/Recordings/:recording.json',
      (req) => {
        find(req.params.recording, req.path);
        area().recordings.delete(req.params.recording);
        area().deleted.add(req.params.recording);
        return { status: 204 };
      },
      opts,
    );
    router.get(
      '/2010-04-01/Accounts/:account/Recordings/:recording.wav',
      (req) => ({ raw: wavBytes(find(req.params.recording, req.path).duration), headers: { 'Content-Type': 'audio/x-wav' } }),
      opts,
    );
    router.get('/2010-04-01/Accounts/:account/Recordings/:recording.mp3', (req) => ({ raw: mp3Bytes(find(req.params.recording, req.path).sid), headers: { 'Content-Type': 'audio/mpeg' } }), opts);

    // The call's current TwiML; a Url fetch still under way is waited for (it is asynchronous).
    async function currentTwiml(call) {
      for (let i = 0; i < 100 && call.url && call.urlFetch && call.urlFetch.status === 'pending'; i += 1) await new Promise((r) => setTimeout(r, 20));
      return call.url ? call.urlTwiml : call.twiml;
    }

    router.post(
      '/emulator/calls/:call/record',
      async (req) => {
        const call = ctx.state.calls.calls.get(req.params.call);
        if (!call) throw lib.errors.notFound(req.path);
        const verb = recordVerb(await currentTwiml(call));
        if (!verb) throw lib.errors.invalidParam('call', `${call.sid} is not running a <Record> (its TwiML: ${String(call.urlTwiml || call.twiml || '').slice(0, 200)})`);
        const b = req.body;
        const duration = Math.max(1, Math.min(parseInt(b.durationSeconds, 10) || 5, Number(verb.maxLength) || 3600));
        const now = clock.now();
        const r = { sid: lib.newSid('RE'), callSid: call.sid, duration, startTime: now - duration * 1000, dateCreated: now };
        area().recordings.set(r.sid, r);
        const recordingUrl = `https://api.twilio.com${base}/Recordings/${r.sid}`;
        const callParams = { AccountSid: ctx.accountSid, CallSid: call.sid, CallStatus: call.status, From: call.from, To: call.to, Direction: call.direction, ApiVersion: '2010-04-01' };
        const parts = {
          action: verb.action && { url: verb.action, params: { ...callParams, RecordingUrl: recordingUrl, RecordingSid: r.sid, RecordingDuration: String(duration), Digits: 'hangup' } },
          status: verb.recordingStatusCallback && {
            url: verb.recordingStatusCallback,
            params: {
              AccountSid: ctx.accountSid,
              CallSid: call.sid,
              RecordingSid: r.sid,
              RecordingUrl: recordingUrl,
              RecordingStatus: 'completed',
              RecordingDuration: String(duration),
              RecordingChannels: '1',
              RecordingStartTime: lib.rfc2822(r.startTime),
              RecordingSource: 'RecordVerb',
              ErrorCode: '0',
            },
          },
          transcription: verb.transcribe === 'true' &&
            verb.transcribeCallback && {
              url: verb.transcribeCallback,
              params: {
                ...callParams,
                TranscriptionSid: lib.newSid('TR'),
                TranscriptionText: String(b.transcriptionText === undefined ? 'Hello, please call me back.' : b.transcriptionText),
                TranscriptionStatus: String(b.transcriptionStatus || 'completed'),
                TranscriptionUrl: `https://api.twilio.com${base}/Recordings/${r.sid}/Transcriptions/x`,
                TranscriptionType: 'fast',
                RecordingSid: r.sid,
                RecordingUrl: recordingUrl,
              },
            },
        };
        const order = String(b.order || 'action,status,transcription')
          .split(',')
          .map((s) => s.trim());
        const deliveries = { action: [], status: [], transcription: [] };
        for (const name of order) {
          const part = parts[name];
          if (!part) continue;
          const key = `repeat.${name}`;
          const repeat = b[key] === undefined ? 1 : Math.min(Math.max(parseInt(b[key], 10) || 0, 0), 10);
          for (let i = 0; i < repeat; i += 1) deliveries[name].push(await ctx.deliver(part.url, part.params));
        }
        return { status: 201, body: { recording: view(r), deliveries } };
      },
      { control: true },
    );
  },

  snapshot: (state) => ({
    recordings: Object.fromEntries([...state.recordings.values()].map((r) => [r.sid, { callSid: r.callSid, duration: r.duration }])),
    deleted: [...state.deleted],
  }),
};
