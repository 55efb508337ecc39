// graphql-codegen as a frontend team would set it up against our schema (docs/clients.md):
// the client preset, every scalar mapped (strictScalars fails on any unmapped one), and
// persisted documents written for graphql.trusted_documents.
import type { CodegenConfig } from "@graphql-codegen/cli";

const out = process.env.CODEGEN_OUT ?? "codegen/gql/";

const config: CodegenConfig = {
  schema: process.env.CODEGEN_SCHEMA ?? "../../graph/schema.graphql",
  documents: ["codegen/src/**/*.ts"],
  ignoreNoDocuments: false,
  generates: {
    [out]: {
      preset: "client",
      presetConfig: { persistedDocuments: { hashAlgorithm: "sha256" } },
      config: {
        strictScalars: true,
        scalars: { Date: "string", DateTime: "string", Decimal: "string" },
        enumsAsTypes: true,
      },
    },
  },
};
export default config;
