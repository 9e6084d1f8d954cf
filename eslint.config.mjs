// The JavaScript of the project: the CloudFront viewer function, the pages'
// script, the Allure 3 runner, and the test and CI scripts. ESLint's
// recommended rules, with each file's own runtime.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    // CloudFront Functions (cloudfront-js-2.0): a script with require and
    // a global `handler`; tests append a runner to it for node and njs.
    files: ["crates/infra/src/viewer-request.js"],
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: "script",
      globals: { require: "readonly", console: "readonly", Buffer: "readonly" },
    },
    rules: {
      // CloudFront calls `handler`; a catch binding is required there.
      "no-unused-vars": ["error", { varsIgnorePattern: "^handler$", caughtErrors: "none" }],
      // The function refuses control characters in paths and cookies.
      "no-control-regex": "off",
    },
  },
  {
    // Appended to the function's code, run under node and njs: it uses the
    // function's globals.
    files: ["tests/support/viewer_runner.js"],
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: "script",
      globals: { ...globals.node, CONFIG: "writable", handler: "readonly" },
    },
  },
  {
    files: ["templates/pages.js"],
    languageOptions: { ecmaVersion: 2020, sourceType: "script", globals: globals.browser },
  },
  {
    files: ["**/*.mjs"],
    languageOptions: { ecmaVersion: 2024, sourceType: "module", globals: globals.node },
  },
  {
    // Playwright drivers: their callbacks run in the page.
    files: ["tests/support/*.mjs"],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    ignores: ["**/node_modules/**", "**/.venv/**", "**/target/**", "bench/**", "fuzz/**", "engines/**"],
  },
];
