// Building the page from data: every text is set with textContent, never parsed as HTML.

export const byId = (id) => document.getElementById(id);

export function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

export function assetLink(id) {
  const a = el("a", `/a/${id}`);
  a.href = `/a/${encodeURIComponent(id)}`;
  return a;
}

export function openAsset(id) {
  window.open(`/a/${encodeURIComponent(id)}`, "_blank", "noopener");
}
