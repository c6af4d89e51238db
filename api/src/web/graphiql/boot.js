// Starts GraphiQL on the page `/graphiql` serves, with the settings the page
// carries in its JSON block. A file of its own rather than an inline script, so
// the page's Content-Security-Policy can be `script-src 'self'`.
(function () {
  "use strict";
  var settings = JSON.parse(
    document.getElementById("graphiql-settings").textContent
  );
  // GraphiQL's dialogs add a <style> element (react-remove-scroll), stamped with
  // this global's value: the page's nonce lets it past `style-src`.
  window.__webpack_nonce__ = settings.styleNonce;
  var url = new URL(settings.endpoint, window.location.origin).toString();
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: url }),
      defaultEditorToolsVisibility: true,
      defaultQuery: settings.defaultQuery,
      defaultHeaders: settings.defaultHeaders,
      shouldPersistHeaders: true,
    })
  );
})();
