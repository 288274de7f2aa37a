export default async function (request, context) {
  let s = 0;
  for (let i = 0; i < 100; i++) s += i;
  return { sum: s, args: request.args };
}
