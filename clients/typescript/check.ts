/**
 * Uses of the types that openapi-typescript generates from openapi/openapi.json, written as a
 * partner's TypeScript code would write them: a brief to create, the problems it may get back,
 * a deal's terms and a page of offers. `make client-check` generates schema.d.ts and checks this
 * file with `tsc --strict --noEmit`, so a path, body, status, media type or field that the
 * document loses or changes fails the build.
 *
 * Each `@ts-expect-error` line proves that a type is still precise: were it to decay to `any`
 * or to a looser shape, the line would compile and the directive itself would be the error.
 */
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type Problem = Schemas["Problem"];

/** The JSON body of a response, or of a request body. */
type Json<T> = T extends { content: { "application/json": infer Body } } ? Body : never;
/** The problem+json body of an error response. */
type ProblemJson<T> = T extends { content: { "application/problem+json": infer Body } }
    ? Body
    : never;
/** True when A and B are the same type. */
type Equal<A, B> =
    (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 422 | 429 | 500 | 503;
/** What each documented error status of an operation answers with; a status whose answer is
 * not problem+json shows up as the string "not problem+json". */
type ErrorBodies<Op extends { responses: object }> = {
    [S in keyof Op["responses"]]: S extends ErrorStatus
        ? Op["responses"][S] extends { content: { "application/problem+json": infer Body } }
            ? Body
            : "not problem+json"
        : never;
}[keyof Op["responses"]];

// --- A brief, created with POST /v1/briefs --------------------------------------------------

type CreateBrief = paths["/v1/briefs"]["post"];
type BriefBody = Json<CreateBrief["requestBody"]>;
type CreatedBrief = Json<CreateBrief["responses"][201]>;

// openapi-typescript types a field that has a default as always present, so a body states
// `description` and `max_counter_rounds` (and the goals' and commission's defaulted fields).
export const springLaunch: BriefBody = {
    title: "Spring serum launch",
    description: "Short videos showing the morning routine.",
    product: {
        name: "Glow serum",
        url: "https://shop.example.com/glow",
        category: "skincare",
        average_order_value: 4_999,
    },
    goals: { reach: 200_000, conversions: 500 },
    budget: 1_000_000,
    currency: "USD",
    platforms: ["tiktok", "instagram"],
    tiers: ["nano", "micro"],
    deliverables: ["short_video", "story"],
    timeline: {
        apply_by: "2030-03-01T00:00:00Z",
        posting_from: "2030-03-10",
        posting_until: "2030-04-10",
    },
    commission: { commission_bp: 1_500, attribution_days: 30 },
    max_counter_rounds: 5,
    visibility: "open",
};

// @ts-expect-error a budget is integer minor units, never a decimal string
export const budgetAsText: BriefBody = { ...springLaunch, budget: "10000.00" };
// @ts-expect-error a brief wants platforms the marketplace knows
export const unknownPlatform: BriefBody = { ...springLaunch, platforms: ["myspace"] };
// @ts-expect-error a brief has a product
export const withoutProduct: BriefBody = { ...springLaunch, product: undefined };

export function budgetLine(brief: CreatedBrief): string {
    const held = brief.reserved + brief.committed;
    return `${brief.title} (${brief.status}): ${brief.remaining} of ${brief.budget} ${brief.currency} free, ${held} held`;
}

// --- Problems: every error answer is application/problem+json -------------------------------

type InvalidBrief = ProblemJson<CreateBrief["responses"][422]>;
type MissingBrief = ProblemJson<paths["/v1/briefs/{brief_id}"]["get"]["responses"][404]>;

export const invalidBriefIsProblem: Equal<InvalidBrief, Problem> = true;
export const missingBriefIsProblem: Equal<MissingBrief, Problem> = true;
export const createBriefErrorsAreProblems: Equal<ErrorBodies<CreateBrief>, Problem> = true;
export const listOffersErrorsAreProblems: Equal<
    ErrorBodies<paths["/v1/offers"]["get"]>,
    Problem
> = true;

/** The message of each field a 422 names, for a form to show beside its inputs. */
export function fieldMessages(problem: InvalidBrief): Map<string, string> {
    const messages = new Map<string, string>();
    for (const error of problem.errors ?? []) {
        messages.set(error.field, error.message);
    }
    return messages;
}

export function isGone(problem: MissingBrief): boolean {
    return problem.status === 404 && problem.type.startsWith("/problems/");
}

export function errorCount(problem: Problem): number {
    // @ts-expect-error a problem without field errors has no `errors` list
    return problem.errors.length;
}

// --- A deal's frozen terms, read with GET /v1/deals/{deal_id} -------------------------------

type Deal = Json<paths["/v1/deals/{deal_id}"]["get"]["responses"][200]>;

export function termsSummary(deal: Deal): string {
    const terms = deal.terms;
    const pieces = terms.deliverables.map(
        (piece) => `${piece.count} ${piece.kind} on ${piece.platform} by ${piece.due_by}`,
    );
    const cap = terms.commission_cap === null ? "no cap" : `capped at ${terms.commission_cap}`;
    const commission = `${terms.commission_bp / 100} % commission (${cap}) over ${terms.attribution_days} days`;
    const price = `the merchant pays ${terms.merchant_pays} ${terms.currency}: ${terms.fixed_fee} to the creator, ${terms.platform_fee} to the platform`;
    return [`deal ${deal.id} (${deal.status}), terms ${deal.terms_sha256}`, price, commission, ...pieces].join("\n");
}

export function isSettled(deal: Deal): boolean {
    switch (deal.status) {
        case "paid":
        case "closed":
        case "refunded":
        case "cancelled":
            return true;
        case "awaiting_funding":
        case "funded":
        case "content_submitted":
        case "approved":
        case "disputed":
            return false;
        default: {
            const unhandled: never = deal.status;
            return unhandled;
        }
    }
}

// @ts-expect-error a deal's status is one of those documented
export const shipped: Deal["status"] = "shipped";

// --- A page of offers, with GET /v1/offers --------------------------------------------------

type ListOffers = paths["/v1/offers"]["get"];
type OfferQuery = NonNullable<ListOffers["parameters"]["query"]>;
type OfferPage = Json<ListOffers["responses"][200]>;

/** The query of the page after this one, or null on the last page. */
export function nextPage(page: OfferPage, query: OfferQuery): OfferQuery | null {
    return page.next_cursor === null ? null : { ...query, cursor: page.next_cursor };
}

export function awaiting(page: OfferPage, side: Schemas["Side"]): string[] {
    return page.items
        .filter((offer) => offer.status === "open" && offer.awaiting === side)
        .map((offer) => `${offer.id} r${offer.latest_revision}: ${offer.merchant_pays} ${offer.currency}`);
}

export const openOffers: OfferQuery = { status: "open", limit: 50 };
// @ts-expect-error offers are filtered by a documented status
export const pendingOffers: OfferQuery = { status: "pending" };

export function lastCursor(page: OfferPage): string {
    // @ts-expect-error the last page has no next cursor
    return page.next_cursor;
}
