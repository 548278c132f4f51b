/*
 * Where the page finds the API. Empty means the page's own origin: make run serves both, and in AWS the
 * CloudFront distribution serves the page and routes /diagnose and /health to the API (template.yaml).
 * Set it only to serve the page from somewhere else during development.
 */
window.CXR_CONFIG = {
  apiBaseUrl: "",
};
