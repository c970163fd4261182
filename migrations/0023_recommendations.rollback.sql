-- Rollback of 0023_recommendations: drops feedback, then recommendations.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE feedback;

DROP TABLE recommendations;
