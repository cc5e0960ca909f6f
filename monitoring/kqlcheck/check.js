// Parse and analyse KQL offline with Microsoft's Kusto.Language (the parser behind Azure Monitor's
// editor), against a declared schema, and report every diagnostic.
// stdin:  {"tables": {"AppRequests": {"TimeGenerated": "datetime", ...}, ...}, "queries": {"id": "text", ...}}
// stdout: {"id": ["Error at 3:7: message", ...], ...}   (an empty list means the query is valid)
'use strict';
require('@kusto/language-service-next/bridge.min.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');

const K = Kusto.Language;

function globals(tables) {
  const symbols = Object.entries(tables).map(([name, columns]) => {
    const schema = '(' + Object.entries(columns).map(([column, type]) => `${column}:${type}`).join(', ') + ')';
    return new K.Symbols.TableSymbol.$ctor7(name, schema, null);
  });
  // A closed database: a table or column that is not declared is an error, not an open guess.
  return K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.$ctor1('workspace', symbols, false));
}

function position(text, offset) {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

function diagnostics(text, state) {
  const found = K.KustoCode.ParseAndAnalyze(text, state).GetDiagnostics();
  const out = [];
  for (let i = 0; i < found.Count; i++) {
    const d = found.getItem(i);
    out.push(`${d.Severity} at ${position(text, d.Start)}: ${d.Message}`);
  }
  return out;
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const request = JSON.parse(input);
  const state = globals(request.tables);
  const result = {};
  for (const [id, text] of Object.entries(request.queries)) {
    result[id] = diagnostics(text, state);
  }
  process.stdout.write(JSON.stringify(result));
});
