// Apollo Client 4, as a frontend uses it, against the invoicing API: queries by GET,
// automatic persisted queries (hash first, by GET), and batching. Prints what it saw.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { BatchHttpLink } from "@apollo/client/link/batch-http";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { createHash } from "node:crypto";

const [url, token] = process.argv.slice(2);
const headers = { Authorization: `Bearer ${token}` };
const calls = [];
const recording = async (input, init = {}) => {
  const response = await fetch(input, init);
  const body = init.body ? JSON.parse(init.body) : null;
  calls.push({
    method: init.method ?? "GET",
    query_in_url: String(input).includes("query="),
    hash_in_url: String(input).includes("persistedQuery"),
    batch: Array.isArray(body),
    with_text: Array.isArray(body) ? body.every((b) => !!b.query) : !!(body && body.query),
    status: response.status,
  });
  return response;
};
const client = (link) => new ApolloClient({ link, cache: new InMemoryCache() });
const COUNT = gql`query Count { customers { totalCount } }`;
const VIEWER = gql`query Viewer { viewer { role } }`;
const results = {};

calls.length = 0;
const byGet = client(new HttpLink({ uri: url, headers, useGETForQueries: true, fetch: recording }));
results.get = { data: (await byGet.query({ query: COUNT })).data, calls: [...calls] };

calls.length = 0;
const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const apqLink = () =>
  new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
    new HttpLink({ uri: url, headers, fetch: recording })
  );
const first = await client(apqLink()).query({ query: VIEWER });
const again = await client(apqLink()).query({ query: VIEWER });
results.apq = { data: [first.data, again.data], calls: [...calls] };

calls.length = 0;
const batched = client(
  new BatchHttpLink({ uri: url, headers, batchMax: 5, batchInterval: 20, fetch: recording })
);
const both = await Promise.all([batched.query({ query: COUNT }), batched.query({ query: VIEWER })]);
results.batch = { data: both.map((r) => r.data), calls: [...calls] };

const mutation = gql`mutation { createCustomer(input: { name: "By Apollo" }) { customer { name } } }`;
calls.length = 0;
const made = await byGet.mutate({ mutation });
results.mutation = { data: made.data, calls: [...calls] };

console.log(JSON.stringify(results));
