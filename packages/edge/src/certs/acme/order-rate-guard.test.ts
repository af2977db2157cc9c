import { describe, expect, it } from 'vitest';
import { FakeTimers } from '../../test-support/fake-timers.js';
import { OrderRateGuard, registeredDomainOf } from './order-rate-guard.js';

const HOUR = 3_600_000;

describe('OrderRateGuard', () => {
  it('allows ordersPerHour in a sliding hour, then says when the next one is free', () => {
    const clock = new FakeTimers(0);
    const guard = new OrderRateGuard({ clock, perHour: 3, perDomainPerWeek: 100 });
    for (const name of ['a.x.com', 'b.y.com', 'c.z.com']) expect(guard.take(name)).toBeNull();
    clock.advance(10 * 60_000);
    expect(guard.take('d.w.com')).toBe(HOUR - 10 * 60_000);
    clock.advance(HOUR - 10 * 60_000);
    expect(guard.take('d.w.com')).toBeNull();
  });

  it('limits orders per registered domain over a week', () => {
    const clock = new FakeTimers(0);
    const guard = new OrderRateGuard({ clock, perHour: 1000, perDomainPerWeek: 2 });
    expect(guard.take('a.example.com')).toBeNull();
    expect(guard.take('b.example.com')).toBeNull();
    expect(guard.take('c.example.com')).toBe(7 * 24 * HOUR);
    expect(guard.take('a.other.org')).toBeNull();
  });

  it('keeps memory bounded by the windows, not by the names tried', () => {
    const clock = new FakeTimers(0);
    const guard = new OrderRateGuard({ clock, perHour: 5, perDomainPerWeek: 5 });
    for (let i = 0; i < 10_000; i += 1) guard.take(`n${i}.d${i}.com`);
    expect(guard.trackedDomains).toBeLessThanOrEqual(5);
  });

  it('giveBack returns what the last take counted, in both windows', () => {
    const clock = new FakeTimers(0);
    const guard = new OrderRateGuard({ clock, perHour: 1, perDomainPerWeek: 1 });
    expect(guard.take('a.example.com')).toBeNull();
    guard.giveBack('a.example.com', guard.lastTakenAt);
    expect(guard.trackedDomains).toBe(0);
    expect(guard.take('b.example.com')).toBeNull();
    expect(guard.take('c.example.com')).not.toBeNull();
  });

  it('giveBack undoes its own take, not one made after it', () => {
    const clock = new FakeTimers(0);
    const guard = new OrderRateGuard({ clock, perHour: 2, perDomainPerWeek: 100 });
    expect(guard.take('a.example.com')).toBeNull();
    const first = guard.lastTakenAt;
    clock.advance(30 * 60_000);
    expect(guard.take('b.other.org')).toBeNull();
    guard.giveBack('a.example.com', first);
    // b's order keeps its own time: the hour frees one slot only when b's hour has passed.
    expect(guard.take('c.third.net')).toBeNull();
    clock.advance(45 * 60_000);
    expect(guard.take('d.fourth.io')).toBe(15 * 60_000);
  });

  it('groups by the last two labels', () => {
    expect(registeredDomainOf('a.b.example.com')).toBe('example.com');
    expect(registeredDomainOf('example.com')).toBe('example.com');
  });
});
