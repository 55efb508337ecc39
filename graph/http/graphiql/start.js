// GraphiQL for the invoicing API, working offline: every file comes from this server.
// The bearer token is asked for once, checked, and kept in this browser's localStorage;
// GraphiQL (and its schema fetch) starts only once there is a token that works.
(function () {
  "use strict";
  var KEY = "invoicing.graphiql.token";
  var form = document.getElementById("token-form");
  var input = document.getElementById("token");
  var problem = document.getElementById("token-problem");

  function check(token) {
    return fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify({ query: "{ viewer { role } }" }),
    }).then(function (response) { return response.ok; }, function () { return false; });
  }

  function ask(message) {
    localStorage.removeItem(KEY);
    problem.textContent = message || "";
    form.hidden = false;
    input.focus();
  }

  function signOut() {
    localStorage.removeItem(KEY);
    location.reload();
  }

  function start(token) {
    form.hidden = true;
    var fetcher = GraphiQL.createFetcher({
      url: "/graphql",
      headers: { Authorization: "Bearer " + token },
    });
    var signOutButton = React.createElement(
      "button",
      { type: "button", className: "graphiql-un-styled sign-out", onClick: signOut },
      "Forget token"
    );
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(
        GraphiQL,
        { fetcher: fetcher, defaultQuery: "{\n  viewer { role name }\n  invoiceStats { total { display } unpaid { display count } }\n}\n" },
        React.createElement(GraphiQL.Logo, null, "Invoicing API"),
        React.createElement(GraphiQL.Toolbar, null, signOutButton)
      )
    );
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var token = input.value.trim();
    check(token).then(function (works) {
      if (works) {
        localStorage.setItem(KEY, token);
        start(token);
      } else {
        ask("That token does not work (unknown, revoked or expired).");
      }
    });
  });

  var kept = localStorage.getItem(KEY);
  if (kept) {
    check(kept).then(function (works) {
      if (works) start(kept); else ask("The token kept in this browser no longer works.");
    });
  } else {
    ask("");
  }
})();
