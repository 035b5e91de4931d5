// Starts the vendored API console (/docs, Swagger UI) or reference (/redoc, ReDoc) on
// /openapi.json. A file of its own: the platform's CSP allows no inline script.
/* global SwaggerUIBundle, Redoc */
const root = document.getElementById("docs");
if (root.dataset.kind === "swagger") {
  SwaggerUIBundle({ url: root.dataset.spec, dom_id: "#docs", deepLinking: true });
} else {
  Redoc.init(root.dataset.spec, { hideDownloadButton: false }, root);
}
