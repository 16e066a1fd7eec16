// One CSV cell (RFC 4180), safe to open in a spreadsheet. A text that starts with `=`, `+`, `-`,
// `@`, a tab or a carriage return would be run as a formula by Excel, LibreOffice or Sheets (a queue
// named `=HYPERLINK(...)`): it gets a leading `'` (OWASP's CSV injection rule), which spreadsheets
// show as text. Numbers are never formulas and stay as they are (negative ones included). A cell
// with `"`, `,`, a line break, or neutralised, is quoted, `"` doubled. null/undefined: empty.
// csvFileName names the file after its range, channel and queues.
// Loaded by history.html (window.csvCell, window.csvFileName) and by the Node tests (module.exports).
(function (root) {
  const FORMULA_START = /^[=+\-@\t\r]/;
  function csvCell(value) {
    if (value === null || value === undefined) return '';
    if (typeof value === 'number') return String(value);
    const raw = String(value);
    const formula = FORMULA_START.test(raw);
    const text = formula ? `'${raw}` : raw;
    return formula || /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  /** A file-name-safe word: letters, digits, `.`, `_` and `-`; anything else becomes `-`. */
  const safe = (text) =>
    String(text)
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '') || 'queue';

  /**
   * The CSV's file name: the range, the channel and the queues, e.g.
   * `queue-history_2026-11-26_to_2026-12-02_voice_Sales+Support.csv`. `first` and `last` are the
   * labels of the first and last hour on screen (`YYYY-MM-DD HH:MM ±hh:mm`, local time): whole
   * days are written as dates, a range that starts or ends inside a day with its hours
   * (`2026-12-02T0900_to_2026-12-02T1200`). `queues`: the selected names, or `all queues`.
   */
  function csvFileName({ first, last, channel, queues }) {
    const parse = (label) => {
      const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2})/.exec(String(label));
      return m ? { date: m[1], hour: Number(m[2]), minute: m[3] } : null;
    };
    const a = parse(first);
    const b = parse(last);
    let range;
    if (!a || !b) range = `${safe(first)}_to_${safe(last)}`;
    else if (a.hour === 0 && b.hour === 23) range = a.date === b.date ? a.date : `${a.date}_to_${b.date}`;
    else range = `${a.date}T${String(a.hour).padStart(2, '0')}${a.minute}_to_${b.date}T${String(b.hour + 1).padStart(2, '0')}${b.minute}`;
    const names = Array.isArray(queues) ? queues.map(safe) : ['all-queues'];
    const shown = names.length > 3 ? [...names.slice(0, 3), `${names.length - 3}-more`] : names;
    return `queue-history_${range}_${safe(channel)}_${shown.join('+')}.csv`;
  }

  if (typeof module === 'object' && module.exports) module.exports = { csvCell, csvFileName };
  else Object.assign(root, { csvCell, csvFileName });
})(this);
