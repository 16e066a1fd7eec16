// One CSV cell (RFC 4180), safe to open in a spreadsheet. A text that starts with `=`, `+`, `-`,
// `@`, a tab or a carriage return would be run as a formula by Excel, LibreOffice or Sheets (a queue
// named `=HYPERLINK(...)`): it gets a leading `'` (OWASP's CSV injection rule), which spreadsheets
// show as text. Numbers are never formulas and stay as they are (negative ones included). A cell
// with `"`, `,`, a line break, or neutralised, is quoted, `"` doubled. null/undefined: empty.
// Loaded by history.html (window.csvCell) and by the Node tests (module.exports).
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
  if (typeof module === 'object' && module.exports) module.exports = { csvCell };
  else root.csvCell = csvCell;
})(this);
