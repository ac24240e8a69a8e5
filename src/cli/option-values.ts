import { InvalidArgumentError } from 'commander';

/** Parses an option's value as an integer in min..max; anything else is refused naming the option. */
export function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min || number > max)
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER
          ? `${name} must be an integer >= ${min}`
          : `${name} must be an integer in ${min}..${max}`,
      );
    return number;
  };
}

/** A TCP port, as `--port` takes it: 0 lets the system pick a free one. */
export const port = integer('--port', 0, 65535);
