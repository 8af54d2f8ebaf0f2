// Files the console embeds as text (`with { type: "text" }`): Bun reads them when run from source
// and `bun build --compile` puts them in the executable, so the image needs no files beside it.
declare module "*.css" {
  const text: string;
  export default text;
}
declare module "*.svg" {
  const text: string;
  export default text;
}
declare module "uplot/dist/uPlot.iife.min.js" {
  const text: string;
  export default text;
}
