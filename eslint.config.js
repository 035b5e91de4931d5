// ESLint for the web map's ES modules (web/static/js); the vendored libraries are not ours.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["web/vendor/**", "node_modules/**", ".venv/**", "test-artifacts/**"] },
  js.configs.recommended,
  {
    files: ["web/static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      "no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-var": "error",
      "prefer-const": "error",
      eqeqeq: ["error", "smart"],
      "no-restricted-properties": [
        "error",
        { property: "innerHTML", message: "set text with textContent; never build HTML from data" },
        { property: "outerHTML", message: "set text with textContent; never build HTML from data" },
      ],
      "no-restricted-syntax": [
        "error",
        { selector: "CallExpression[callee.property.name='insertAdjacentHTML']", message: "no HTML from data" },
      ],
    },
  },
];
