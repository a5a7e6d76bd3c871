// Typeset TeX the way Obsidian does (MathJax 3, TeX input) and report each error: reads a JSON list of
// {"tex": "...", "display": true|false} on stdin, writes a JSON list of error messages (null: typeset fine).
// No "noerrors" or "noundefined" package: an unknown macro or a missing brace is an error, as the red
// text Obsidian shows for it is.
const {mathjax} = require("mathjax-full/js/mathjax.js");
const {TeX} = require("mathjax-full/js/input/tex.js");
const {SVG} = require("mathjax-full/js/output/svg.js");
const {liteAdaptor} = require("mathjax-full/js/adaptors/liteAdaptor.js");
const {RegisterHTMLHandler} = require("mathjax-full/js/handlers/html.js");
const {AllPackages} = require("mathjax-full/js/input/tex/AllPackages.js");

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const packages = AllPackages.filter((name) => !["noerrors", "noundefined", "autoload", "require"].includes(name));
const tex = new TeX({packages, formatError: (_jax, error) => { throw error; }});
const doc = mathjax.document("", {InputJax: tex, OutputJax: new SVG({fontCache: "none"})});

let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const results = JSON.parse(input).map(({tex: source, display}) => {
    try {
      doc.convert(source, {display});
      return null;
    } catch (error) {
      return String(error.message || error);
    }
  });
  process.stdout.write(JSON.stringify(results));
});
