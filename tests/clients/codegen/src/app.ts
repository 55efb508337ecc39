// What a frontend writes: operations through the generated `graphql()` tag, and code that
// uses their results with the scalars typed as strings (no `any`, no `unknown`).
import { graphql } from "../gql";
import type { InvoicesPageQuery, PayInvoiceMutationVariables } from "../gql/graphql";

export const InvoicesPage = graphql(`
  query InvoicesPage($page: Int!, $search: String) {
    invoices(page: $page, filter: { search: $search }) {
      totalCount
      items { id number total dueDate createdAt status customer { name } }
    }
  }
`);

export const PayInvoice = graphql(`
  mutation PayInvoice($input: PayInvoiceInput!) {
    payInvoice(input: $input) { invoice { id status paidAt } errors { code field message } }
  }
`);

export function firstTotal(page: InvoicesPageQuery): string | undefined {
  const first = page.invoices.items[0];
  const due: string = first.dueDate;
  const created: string = first.createdAt;
  return due && created ? first.total : undefined;
}

export const byCard: PayInvoiceMutationVariables = {
  input: { invoiceId: "1", method: "STRIPE" },
};
