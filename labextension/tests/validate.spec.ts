import { CellValidator, IServerProblem, placeProblems } from '../src/validate';

const problem = (p: Partial<IServerProblem>): IServerProblem => ({
  message: 'm',
  key: null,
  line: null,
  start: null,
  end: null,
  ...p
});

describe('placeProblems', () => {
  it('places spans of the body on the cell, in UTF-16 offsets', () => {
    const text = '%%automl r\nname: "🙂x"\nstrtegy: tpe\n';
    const body = text.slice(11);
    // Python's indices count the emoji as one character
    const start = [...body].join('').indexOf('strtegy');
    const pyStart = [...body.slice(0, start)].length;
    const [d] = placeProblems(text, [
      problem({ start: pyStart, end: pyStart + 7, line: 3 })
    ]);
    expect(text.slice(d.from, d.to)).toBe('strtegy');
  });

  it('marks the whole line without a span, and the magic line without a line', () => {
    const text = '%%automl\ndata: x\n';
    const [a, b] = placeProblems(text, [
      problem({ line: 2, message: 'a' }),
      problem({ message: 'b' })
    ]).sort((x, y) => x.message.localeCompare(y.message));
    expect(text.slice(a.from, a.to)).toBe('data: x');
    expect(text.slice(b.from, b.to)).toBe('%%automl');
  });
});

describe('CellValidator', () => {
  it('asks once per text, debounced, and falls back when the server is away', async () => {
    const asked: string[] = [];
    let answer: IServerProblem[] | null = [problem({ message: 'x' })];
    const validator = new CellValidator(async body => {
      asked.push(body);
      return answer;
    }, 5);
    const told = new Promise<void>(resolve => validator.subscribe(resolve));
    expect(validator.problems('%%automl\na: 1')).toBeUndefined();
    expect(validator.problems('%%automl\na: 12')).toBeUndefined();
    await told;
    expect(asked).toEqual(['a: 12']); // only the latest text of a burst of edits
    expect(validator.problems('%%automl\na: 12')).toEqual([
      problem({ message: 'x' })
    ]);
    expect(validator.available).toBe(true);
    answer = null;
    const again = new Promise<void>(resolve => validator.subscribe(resolve));
    validator.problems('%%automl\nb: 1');
    await again;
    expect(validator.available).toBe(false);
  });
});
