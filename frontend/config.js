/*
 * Where the page finds the API. Empty means the same origin as the page (make run serves both).
 * infra/deploy.sh writes a copy of this file with the deployed API's URL; this one stays as it is.
 */
window.CXR_CONFIG = {
  apiBaseUrl: "",
};
