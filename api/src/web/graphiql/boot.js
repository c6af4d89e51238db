// Starts GraphiQL on the page `/graphiql` serves, with the settings the page
// carries in its JSON block. A file of its own rather than an inline script, so
// the page's Content-Security-Policy can be `script-src 'self'`.
(function () {
  "use strict";
  var settings = JSON.parse(
    document.getElementById("graphiql-settings").textContent
  );
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
