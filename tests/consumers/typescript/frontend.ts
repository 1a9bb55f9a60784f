// The first code a frontend developer writes against the API, typed only by what
// openapi-typescript generates from the committed spec (generated/api.d.ts, not
// committed). It must pass `tsc --noEmit --strict`: `make consumers` checks it.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api";

type Article = components["schemas"]["Article"];
type ArticleFields = components["schemas"]["ArticleFields"];
type Author = components["schemas"]["AuthorIncluded"];
type AuthorReference = components["schemas"]["AuthorReference"];
type Problem = components["schemas"]["Problem"];

const api = createClient<paths>({ baseUrl: "http://127.0.0.1:5000" });

function isIncluded(author: Author | AuthorReference): author is Author {
  return "bio" in author;
}

function isWhole(article: Article | ArticleFields): article is Article {
  return "body_html" in article && "authors" in article;
}

// Problems carry a stable code and field errors keyed by field (dotted for nested ones).
export function describe(problem: Problem): string {
  const fields = Object.entries(problem.errors ?? {}).map(
    ([field, messages]) => `${field}: ${messages.join(" ")}`,
  );
  return [`${problem.status} ${problem.code}: ${problem.detail}`, ...fields].join("\n");
}

// The home page: newest articles, their bylines in full.
export async function homePage(): Promise<string[]> {
  const { data, error } = await api.GET("/api/v1/articles", {
    params: { query: { include: ["authors", "category", "tags", "cover_image"], page_size: 20 } },
  });
  if (error) throw new Error(describe(error));
  return data.data.filter(isWhole).map((article) => {
    const byline = article.authors
      .map((author) => (isIncluded(author) ? `${author.name} (${author.bio ?? "no bio"})` : author.name))
      .join(", ");
    const category = article.category?.name ?? "Uncategorised";
    const cover = article.cover_image ? ` [${article.cover_image.alt}]` : "";
    return `${article.title}: ${byline}, ${category}${cover}, ${article.tags.length} tags`;
  });
}

// One article, then an edit that proves it saw the current version.
export async function retitle(slug: string, title: string, token: string): Promise<Article> {
  const headers = { Authorization: `Bearer ${token}` };
  const read = await api.GET("/api/v1/articles/slug/{slug}", {
    params: { path: { slug } },
    headers,
  });
  if (read.error) throw new Error(describe(read.error));
  const etag = read.response.headers.get("ETag");
  if (etag === null) throw new Error("every GET answers with an ETag");
  const { data, error } = await api.PATCH("/api/v1/articles/{article_id}", {
    params: { path: { article_id: read.data.id }, header: { "If-Match": etag } },
    body: { title },
    headers,
  });
  if (error) {
    if (error.code === "precondition_failed") throw new Error("Someone else edited it: reload.");
    throw new Error(describe(error));
  }
  return data;
}
